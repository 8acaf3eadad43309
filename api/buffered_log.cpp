#include "api/buffered_log.h"
#include "engine/thread_name.h"

#include <chrono>

#include <fmt/format.h>

namespace tl {

BufferedLog::BufferedLog(std::FILE* out, BufferedLogOptions options)
    : out_(out), options_(options), thread_([this] {
        name_this_thread("tl-log-writer");
        run();
      }) {}

BufferedLog::~BufferedLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BufferedLog::write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > options_.pending_bytes_max) {
      ++dropped_lines_;
      return;
    }
    pending_.append(line);
    wake = pending_.size() >= options_.flush_bytes;
  }
  if (wake) wake_.notify_one();
}

uint64_t BufferedLog::dropped_lines() const {
  std::lock_guard lock(mutex_);
  return dropped_lines_;
}

void BufferedLog::run() {
  std::string writing;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                   [this] { return stopping_ || pending_.size() >= options_.flush_bytes; });
    writing.swap(pending_);
    if (dropped_lines_ > dropped_reported_) {
      writing += fmt::format("{{\"log\":\"{} lines dropped: the log did not keep up\"}}\n", dropped_lines_ - dropped_reported_);
      dropped_reported_ = dropped_lines_;
    }
    const bool last = stopping_;
    lock.unlock();
    if (!writing.empty()) {
      std::fwrite(writing.data(), 1, writing.size(), out_);  // no lock held: writers go on meanwhile
      std::fflush(out_);
      writing.clear();
    }
    lock.lock();
    if (last && pending_.empty()) return;
  }
}

}  // namespace tl
