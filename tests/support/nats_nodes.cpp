#include "support/nats_nodes.h"

#include <cassert>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "api/nats_connection.h"

namespace tl::test {
namespace {

constexpr int node_ready_wait_ms = 10'000;
constexpr int node_stop_wait_ms = 10'000;

bool is_executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

}  // namespace

std::string find_nats_server() {
  if (const char* configured = std::getenv("TL_NATS_SERVER"); configured != nullptr && is_executable(configured)) {
    return configured;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const std::string candidate = std::string(rest.substr(0, colon)) + "/nats-server";
      if (is_executable(candidate)) return candidate;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (is_executable(candidate)) return candidate;
  }
  return "";
}

NatsNodes::NatsNodes(size_t nodes, std::string folder, std::string binary)
    : folder_(std::move(folder)), binary_(binary.empty() ? find_nats_server() : std::move(binary)), nodes_(nodes) {
  assert(nodes >= 1);
  if (binary_.empty()) {
    problem_ = "nats-server is not installed: install Debian's nats-server package (apt-get install nats-server; "
               ".ci/setup does), or point TL_NATS_SERVER at one";
    return;
  }
  for (Node& node : nodes_) {
    node.client_port = free_loopback_port();
    node.cluster_port = free_loopback_port();
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    const std::string name = fmt::format("n{}", i + 1);
    node.config_path = fmt::format("{}/{}.conf", folder_, name);
    node.log_path = fmt::format("{}/{}.log", folder_, name);
    std::ofstream config(node.config_path);
    config << "server_name: " << name << "\n"
           << "listen: 127.0.0.1:" << node.client_port << "\n"
           << "max_payload: 2MB\n"  // a stored event may be a little over 1 MiB
           << "jetstream {\n  store_dir: \"" << folder_ << "/" << name << "\"\n"
           << "  max_memory_store: 64MB\n  max_file_store: 1GB\n}\n";
    if (nodes_.size() > 1) {
      config << "cluster {\n  name: tl\n  listen: 127.0.0.1:" << node.cluster_port << "\n  routes: [\n";
      for (size_t j = 0; j < nodes_.size(); ++j) {
        if (j != i) config << "    nats-route://127.0.0.1:" << nodes_[j].cluster_port << "\n";
      }
      config << "  ]\n}\n";
    }
    if (!config.good() && problem_.empty()) problem_ = "could not write " + node.config_path;
  }
}

NatsNodes::~NatsNodes() {
  for (Node& node : nodes_) node.process.kill_and_wait();
}

std::string NatsNodes::start(size_t node) {
  assert(node < nodes_.size());
  assert(!running(node));
  if (!problem_.empty()) return problem_;
  nodes_[node].process = ChildProcess::spawn(binary_, {"-c", nodes_[node].config_path}, {}, nodes_[node].log_path);
  std::string text;
  const auto ready = nodes_[node].process.wait_for_log(std::regex("Server is ready"), node_ready_wait_ms, &text);
  if (ready.has_value()) return "";
  return fmt::format("nats-server n{} did not start:\n{}", node + 1, text);
}

std::string NatsNodes::start_all() {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (running(i)) continue;
    if (std::string problem = start(i); !problem.empty()) return problem;
  }
  return "";
}

void NatsNodes::stop(size_t node) {
  assert(node < nodes_.size());
  nodes_[node].process.signal(SIGTERM);
  if (!nodes_[node].process.wait(node_stop_wait_ms)) nodes_[node].process.kill_and_wait();
}

void NatsNodes::stop_all() {
  for (Node& node : nodes_) node.process.signal(SIGTERM);  // all at once: no node waits for a lost quorum
  for (size_t i = 0; i < nodes_.size(); ++i) stop(i);
}

void NatsNodes::kill(size_t node) {
  assert(node < nodes_.size());
  nodes_[node].process.kill_and_wait();
}

bool NatsNodes::running(size_t node) { return nodes_[node].process.running(); }

bool NatsNodes::wait_until_ready(int timeout_ms) {
  std::string running_urls;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!running(i)) continue;
    if (!running_urls.empty()) running_urls += ',';
    running_urls += url(i);
  }
  if (running_urls.empty()) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  nats::ConnectOptions options;
  options.url = running_urls;
  options.name = "tutorledger-test";
  options.request_timeout_ms = 1'000;
  std::unique_ptr<nats::Session> session;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!session && !nats::Session::connect(options, &session).is_ok()) session.reset();
    if (session) {
      jsAccountInfo* info = nullptr;
      const natsStatus s = js_GetAccountInfo(&info, session->jetstream(), nullptr, nullptr);
      jsAccountInfo_Destroy(info);
      if (s == NATS_OK) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string NatsNodes::url(size_t node) const { return fmt::format("nats://127.0.0.1:{}", nodes_[node].client_port); }

std::string NatsNodes::urls() const {
  std::string all;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i > 0) all += ',';
    all += url(i);
  }
  return all;
}

}  // namespace tl::test
