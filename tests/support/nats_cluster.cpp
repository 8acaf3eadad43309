#include "support/nats_cluster.h"

#include <doctest/doctest.h>

namespace tl::test {

NatsCluster::NatsCluster(size_t nodes) : nodes_(nodes, folder_.path()) {
  REQUIRE_MESSAGE(nodes_.problem().empty(), nodes_.problem() << " (these tests run real NATS JetStream servers)");
}

void NatsCluster::start(size_t node) {
  REQUIRE(node < nodes_.size());
  REQUIRE_FALSE(nodes_.running(node));
  const std::string problem = nodes_.start(node);
  REQUIRE_MESSAGE(problem.empty(), problem);
}

void NatsCluster::start_all() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_.running(i)) start(i);
  }
}

}  // namespace tl::test
