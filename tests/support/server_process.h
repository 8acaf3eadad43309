#pragma once
// The real `tutorledger serve` binary as a child process: start on a fixed loopback port, kill
// with SIGKILL, stop with SIGTERM, restart on the same data folder.
#include <string>
#include <sys/types.h>
#include <vector>

namespace tl::test {

// A free TCP port on 127.0.0.1, below the ephemeral range and never the same twice in a process
// (checked by a bind, then released: another process could still take it, rarely).
uint16_t free_loopback_port();

class ServerProcess {
 public:
  // `extra_args` are added after `serve --data DIR --listen 127.0.0.1:PORT`; `env` is the child's
  // whole environment ("NAME=value").
  ServerProcess(std::string data_dir, uint16_t port, std::vector<std::string> extra_args, std::vector<std::string> env);
  ~ServerProcess();  // SIGKILL if still running

  // Starts and waits until it listens (its stderr says so); false (with log()) on failure.
  bool start(int timeout_ms = 20'000);
  void kill_hard();             // SIGKILL, then reaps
  int stop(int timeout_ms = 20'000);  // SIGTERM, waits; the exit code (or 128+signal)
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  // The last part of what the child wrote to stderr (a file beside the data folder, so that a
  // chatty server never blocks on a full pipe).
  std::string log() const;

 private:
  std::string data_dir_;
  std::string log_path_;
  uint16_t port_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
};

// The path of the binary under test (CTest sets TL_TUTORLEDGER_BIN).
std::string tutorledger_binary();

}  // namespace tl::test
