#pragma once
// Real nats-server processes on loopback for the NATS tests: one JetStream node, or a JetStream
// cluster of three (a config file each: listen, cluster { name, listen, routes }, jetstream
// { store_dir }), on free ports, storing under a temporary folder. Nodes can be stopped, killed
// and started again with their data. Needs Debian's nats-server (PATH, /usr/sbin, /usr/bin, or
// TL_NATS_SERVER); a test fails with a clear message when it is missing.
#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/log_test_support.h"

namespace tl::test {

// The nats-server binary, or "" when there is none.
std::string find_nats_server();

class NatsCluster {
 public:
  explicit NatsCluster(size_t nodes);  // writes the configs; starts nothing
  ~NatsCluster();                      // kills what still runs
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  void start(size_t node);
  void start_all();
  void stop(size_t node);   // SIGTERM, waits
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
  const std::string& folder() const { return folder_.path(); }

 private:
  struct Node {
    uint16_t client_port = 0;
    uint16_t cluster_port = 0;
    std::string config_path;
    std::string log_path;
    ChildProcess process;
  };
  logtest::TempFolder folder_;
  std::string binary_;
  std::vector<Node> nodes_;
};

}  // namespace tl::test
