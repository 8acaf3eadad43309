#pragma once
// A log that never holds up an answer: lines are appended to a buffer under a short lock, and a
// thread of its own writes the buffer to a FILE* (stderr) every `flush_interval_ms` or once
// `flush_bytes` are waiting. A write syscall per request line cost a fifth of the server's
// /healthz rate (bench/RESULTS.md, http_server_bench with and without the log).
// Bounded: when `pending_bytes_max` are waiting (the FILE* does not keep up, or blocks), further
// lines are dropped and counted, and the count is written once the log moves again.
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tl {

struct BufferedLogOptions {
  int64_t flush_interval_ms = 100;
  size_t flush_bytes = 64 * 1024;
  size_t pending_bytes_max = 8 * 1024 * 1024;
};

class BufferedLog {
 public:
  BufferedLog(std::FILE* out, BufferedLogOptions options = {});
  ~BufferedLog();  // writes what is waiting, then joins its thread
  BufferedLog(const BufferedLog&) = delete;
  BufferedLog& operator=(const BufferedLog&) = delete;

  // Thread-safe; `line` should end in '\n'.
  void write(std::string_view line);
  uint64_t dropped_lines() const;

 private:
  void run();

  std::FILE* out_;
  const BufferedLogOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;            // guarded by mutex_
  uint64_t dropped_lines_ = 0;     // guarded by mutex_
  uint64_t dropped_reported_ = 0;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace tl
