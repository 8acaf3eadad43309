#include "engine/rocksdb_info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tl {
namespace {

// One line of RocksDB's text; longer ones (an options dump) are cut, never split.
constexpr size_t info_log_line_bytes_max = 8 * 1024;

class FileInfoLog final : public rocksdb::Logger {
 public:
  FileInfoLog(std::string folder, rocksdb::InfoLogLevel level, uint64_t file_bytes_max)
      : rocksdb::Logger(level), path_(folder + "/LOG"), old_path_(folder + "/LOG.old"), file_bytes_max_(file_bytes_max) {}

  ~FileInfoLog() override {
    if (fd_ >= 0) ::close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list arguments) override {
    char line[info_log_line_bytes_max];
    size_t length = prefix(line, sizeof line);
    va_list copy;
    va_copy(copy, arguments);
    const int written = std::vsnprintf(line + length, sizeof line - length, format, copy);
    va_end(copy);
    if (written > 0) length = std::min(sizeof line - 1, length + static_cast<size_t>(written));
    if (length == 0 || line[length - 1] != '\n') {
      if (length == sizeof line - 1) --length;  // keep room for the line break
      line[length++] = '\n';
    }
    assert(length <= sizeof line);
    write_line(line, length);
  }

  uint64_t lines_dropped() const { return lines_dropped_.load(std::memory_order_relaxed); }

 private:
  // "2026/12/07-18:05:39.123456 31222 ", as RocksDB's own LOG lines begin.
  static size_t prefix(char* out, size_t capacity) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    const int length = std::snprintf(out, capacity, "%04d/%02d/%02d-%02d:%02d:%02d.%06lld %d ", utc.tm_year + 1900,
                                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                                     static_cast<long long>(micros % 1'000'000), static_cast<int>(::gettid()));
    return length > 0 ? static_cast<size_t>(length) : 0;
  }

  void write_line(const char* line, size_t length) {
    std::lock_guard lock(mutex_);
    if (fd_ < 0 || bytes_ + length > file_bytes_max_) reopen(fd_ >= 0);
    if (fd_ < 0) {
      lines_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // One write per line (O_APPEND): a short or failed write on a full disk loses this line only.
    const ssize_t wrote = ::write(fd_, line, length);
    if (wrote != static_cast<ssize_t>(length)) {
      lines_dropped_.fetch_add(1, std::memory_order_relaxed);
      if (wrote < 0) return;
    }
    bytes_ += static_cast<uint64_t>(wrote);
  }

  // Opens LOG for appending; `rotate` first moves a full one to LOG.old (replacing it).
  void reopen(bool rotate) {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (rotate) (void)std::rename(path_.c_str(), old_path_.c_str());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return;
    struct stat info{};
    bytes_ = ::fstat(fd_, &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
    if (bytes_ >= file_bytes_max_ && !rotate) reopen(true);  // a full LOG left by an earlier run
  }

  const std::string path_;
  const std::string old_path_;
  const uint64_t file_bytes_max_;
  std::mutex mutex_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
  std::atomic<uint64_t> lines_dropped_{0};
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_info_log(const std::string& folder, rocksdb::InfoLogLevel level,
                                               uint64_t file_bytes_max) {
  assert(file_bytes_max > 0);
  return std::make_shared<FileInfoLog>(folder, level, file_bytes_max);
}

uint64_t info_log_lines_dropped(const rocksdb::Logger& logger) {
  const auto* ours = dynamic_cast<const FileInfoLog*>(&logger);
  return ours == nullptr ? 0 : ours->lines_dropped();
}

}  // namespace tl
