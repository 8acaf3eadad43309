#include "support/server_process.h"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <random>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tl::test {

std::string tutorledger_binary() {
  const char* binary = std::getenv("TL_TUTORLEDGER_BIN");
  if (binary == nullptr) throw std::runtime_error("TL_TUTORLEDGER_BIN is not set: run the test through CTest");
  return binary;
}

namespace {

// Ports handed out below Linux's ephemeral range (32768-60999 by default): an outgoing connection
// of this or another test process never takes one of them between the check and the listener's
// bind, as it could take a port the kernel picked with bind(0). Each process starts at its own
// random offset and never hands out a port twice, so concurrent tests (ctest -j) rarely meet.
constexpr uint16_t test_port_first = 20000;
constexpr uint16_t test_port_count = 12000;

bool loopback_port_is_free(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return bound;
}

}  // namespace

uint16_t free_loopback_port() {
  static std::mutex mutex;
  static uint32_t next = static_cast<uint32_t>(std::random_device{}() % test_port_count);
  std::lock_guard lock(mutex);
  for (uint32_t tried = 0; tried < test_port_count; ++tried) {
    const auto port = static_cast<uint16_t>(test_port_first + next % test_port_count);
    ++next;
    if (loopback_port_is_free(port)) return port;
  }
  throw std::runtime_error("no free loopback port between 20000 and 32000");
}

ServerProcess::ServerProcess(std::string data_dir, uint16_t port, std::vector<std::string> extra_args,
                             std::vector<std::string> env)
    : data_dir_(std::move(data_dir)), log_path_(data_dir_ + ".stderr.log"), port_(port),
      extra_args_(std::move(extra_args)), env_(std::move(env)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill_hard();
}

std::string ServerProcess::log() const {
  constexpr long tail_bytes_max = 64 * 1024;
  std::string text;
  if (FILE* file = std::fopen(log_path_.c_str(), "rb")) {
    std::fseek(file, 0, SEEK_END);
    const long size = std::ftell(file);
    std::fseek(file, size > tail_bytes_max ? size - tail_bytes_max : 0, SEEK_SET);
    char buffer[8192];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
    std::fclose(file);
  }
  return text;
}

bool ServerProcess::start(int timeout_ms) {
  if (pid_ > 0) return true;
  const std::string binary = tutorledger_binary();
  // Each start begins a fresh log file (O_TRUNC), so "listening on" is this start's.
  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log_fd < 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
    std::vector<std::string> args = {binary, "serve", "--data", data_dir_, "--listen", "127.0.0.1:" + std::to_string(port_)};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : env_) envp.push_back(entry.data());
    envp.push_back(nullptr);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (log().find("listening on") != std::string::npos) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    usleep(20'000);
  }
  return false;
}

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServerProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    usleep(10'000);
  }
  kill_hard();
  return 128 + SIGKILL;
}

}  // namespace tl::test
