#include "api/interrupt_cleanup.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "engine/leftovers.h"

namespace tl::cli {

void install_interrupt_cleanup(bool clear_bar_line) {
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Detached: it waits for the whole run and ends with the process.
  std::thread([signals, clear_bar_line] {
    int received = 0;
    if (sigwait(&signals, &received) != 0) return;
    leftovers::delete_all();
    if (clear_bar_line) {
      static constexpr char erase_line[] = "\r\x1b[K";
      [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, erase_line, sizeof erase_line - 1);
    }
    std::signal(received, SIG_DFL);
    sigset_t just_this;
    sigemptyset(&just_this);
    sigaddset(&just_this, received);
    pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
    raise(received);
  }).detach();
}

}  // namespace tl::cli
