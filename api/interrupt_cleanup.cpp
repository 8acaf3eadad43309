#include "api/interrupt_cleanup.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "engine/leftovers.h"

namespace tl::cli {
namespace {

std::atomic<bool> bar_line_to_clear{false};

// Deletes what the command leaves half made, clears the bar's line, and ends the process by
// `received`, as if it had not been blocked or ignored.
[[noreturn]] void clean_up_and_end_by(int received) {
  leftovers::delete_all();
  if (bar_line_to_clear.load()) {
    static constexpr char erase_line[] = "\r\x1b[K";
    [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, erase_line, sizeof erase_line - 1);
  }
  std::signal(received, SIG_DFL);
  sigset_t just_this;
  sigemptyset(&just_this);
  sigaddset(&just_this, received);
  pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
  raise(received);
  _exit(128 + received);  // not reached: the default action of these signals ends the process
}

}  // namespace

void install_interrupt_cleanup(bool clear_bar_line) {
  bar_line_to_clear.store(clear_bar_line);
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Detached: it waits for the whole run and ends with the process.
  std::thread([signals] {
    int received = 0;
    if (sigwait(&signals, &received) != 0) return;
    clean_up_and_end_by(received);
  }).detach();
}

void end_by_closed_pipe() { clean_up_and_end_by(SIGPIPE); }

}  // namespace tl::cli
