#pragma once
// A child process for tests and benchmarks (no doctest): its own arguments, the parent's environment plus extras, stdout and
// stderr appended to a log file (a pipe nobody drains would block a chatty child), signals, and a
// bounded wait. The destructor SIGKILLs a child that is still running; the child is also
// SIGKILLed when the thread that spawned it ends (PR_SET_PDEATHSIG), so that a crashed test
// leaves no process behind: spawn from a thread that outlives the child.
#include <optional>
#include <regex>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/server_process.h"  // tutorledger_binary, free_loopback_port

namespace tl::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts `binary` with `args`; a child that is not running when it cannot fork.
  static ChildProcess spawn(const std::string& binary, const std::vector<std::string>& args,
                            const std::vector<std::string>& extra_env, const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  bool running();
  void signal(int signal_number) const;
  // The exit code (128 + signal when killed by one), or nullopt when still running after timeout_ms.
  std::optional<int> wait(int timeout_ms);
  int kill_and_wait();  // SIGKILL

  std::string log() const;  // everything the child wrote so far
  // Waits until the log matches `pattern`; the match, or nullopt after timeout_ms.
  std::optional<std::smatch> wait_for_log(const std::regex& pattern, int timeout_ms, std::string* text_out);

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
};

}  // namespace tl::test
