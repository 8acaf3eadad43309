#pragma once
// Real nats-server processes on loopback for the NATS tests: support/nats_nodes.h (doctest-free,
// shared with the NATS benchmark) in a temporary folder, failing the test with a clear message
// when nats-server is missing or a node does not start.
#include <cstdint>
#include <string>

#include "support/log_test_support.h"
#include "support/nats_nodes.h"

namespace tl::test {

class NatsCluster {
 public:
  explicit NatsCluster(size_t nodes);  // writes the configs; starts nothing
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  void start(size_t node);  // REQUIREs that it starts
  void start_all();
  void stop(size_t node) { nodes_.stop(node); }  // SIGTERM, waits
  void stop_all() { nodes_.stop_all(); }
  void kill(size_t node) { nodes_.kill(node); }  // SIGKILL, waits
  bool running(size_t node) { return nodes_.running(node); }

  // Waits until JetStream answers API calls through the running nodes (a meta leader is elected);
  // false after timeout_ms.
  bool wait_until_ready(int timeout_ms) { return nodes_.wait_until_ready(timeout_ms); }

  size_t size() const { return nodes_.size(); }
  std::string url(size_t node) const { return nodes_.url(node); }
  std::string urls() const { return nodes_.urls(); }  // every node, comma-separated
  std::string log(size_t node) const { return nodes_.log(node); }
  const std::string& folder() const { return folder_.path(); }

 private:
  logtest::TempFolder folder_;  // declared first: outlives the nodes that store in it
  NatsNodes nodes_;
};

}  // namespace tl::test
