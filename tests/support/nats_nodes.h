#pragma once
// Real nats-server processes on loopback, without doctest (the NATS tests wrap this in
// support/nats_cluster.h; bench/nats_bench.cpp uses it directly): one JetStream node, or a
// JetStream cluster of several (a config file each: server_name, listen, cluster { name, listen,
// routes }, jetstream { store_dir }), on free ports, storing under a folder the caller owns.
// Nodes can be stopped, killed and started again with their data.
#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace tl::test {

// The nats-server binary (TL_NATS_SERVER, PATH, /usr/sbin, /usr/bin, /usr/local/bin), or "".
std::string find_nats_server();

class NatsNodes {
 public:
  // Writes one config per node into `folder` (which must exist); starts nothing. `binary` ""
  // means find_nats_server().
  NatsNodes(size_t nodes, std::string folder, std::string binary = "");
  ~NatsNodes();  // kills what still runs
  NatsNodes(const NatsNodes&) = delete;
  NatsNodes& operator=(const NatsNodes&) = delete;

  // Why these nodes cannot start (no nats-server, a config not written), or "".
  const std::string& problem() const { return problem_; }

  // Starts a node that is not running and waits until it is ready; "" or why it did not start.
  std::string start(size_t node);
  std::string start_all();  // starts every node not running; the first problem, or ""
  void stop(size_t node);   // SIGTERM, waits (SIGKILL after a while)
  void stop_all();
  void kill(size_t node);   // SIGKILL, waits
  bool running(size_t node);

  // Waits until JetStream answers API calls through the running nodes (a meta leader is elected);
  // false after timeout_ms.
  bool wait_until_ready(int timeout_ms);

  size_t size() const { return nodes_.size(); }
  std::string url(size_t node) const;
  std::string urls() const;  // every node, comma-separated
  std::string log(size_t node) const { return nodes_[node].process.log(); }
  const std::string& folder() const { return folder_; }

 private:
  struct Node {
    uint16_t client_port = 0;
    uint16_t cluster_port = 0;
    std::string config_path;
    std::string log_path;
    ChildProcess process;
  };
  std::string folder_;
  std::string binary_;
  std::string problem_;
  std::vector<Node> nodes_;
};

}  // namespace tl::test
