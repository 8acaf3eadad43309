// RocksDB's info log as we write it (engine/rocksdb_info_log.h): a write that fails (a full disk)
// loses that line and nothing else, the files stay within their bound, and a ledger whose files
// cannot grow answers errors instead of aborting.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "engine/rocksdb_info_log.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

uint64_t file_size(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Runs `body` in a child process and returns its wait status: what a full disk does to the
// process (an abort is a signal) must not take the test runner with it.
template <class Body>
int in_child(Body&& body) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A file may not grow past the limit the body sets: writes fail with EFBIG, as on a full disk.
    std::signal(SIGXFSZ, SIG_IGN);
    ::_exit(body());
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return status;
}

void limit_file_bytes(uint64_t bytes) {
  const rlimit limit{bytes, bytes};
  (void)::setrlimit(RLIMIT_FSIZE, &limit);
}

}  // namespace

TEST_CASE("TheInfoLogKeepsRocksDbsLineLayoutAndAtMostTwoFiles") {
  TempFolder folder;
  auto logger = make_info_log(folder.path(), rocksdb::InfoLogLevel::INFO_LEVEL, /*file_bytes_max=*/2000);
  for (int i = 0; i < 100; ++i) rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, logger, "line %d of the test", i);
  rocksdb::Log(rocksdb::InfoLogLevel::DEBUG_LEVEL, logger, "below the level: dropped");
  const uint64_t current = file_size(folder.sub("LOG"));
  const uint64_t old = file_size(folder.sub("LOG.old"));
  CHECK(current > 0);
  CHECK(current <= 2000);
  CHECK(old > 1900);
  CHECK(old <= 2000);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder.path())) files += entry.is_regular_file();
  CHECK(files == 2);
  const std::string text = file_bytes(folder.sub("LOG"));
  CHECK(text.find("line 99 of the test\n") != std::string::npos);
  CHECK(text.find("below the level") == std::string::npos);
  // "2026/12/07-18:05:39.123456 <thread> text", as RocksDB's own lines begin.
  CHECK(text[4] == '/');
  CHECK(text[10] == '-');
  CHECK(text[19] == '.');
  CHECK(info_log_lines_dropped(*logger) == 0);
}

TEST_CASE("ALineThatCannotBeWrittenIsDroppedAndTheLogGoesOn") {
  TempFolder folder;
  const std::string missing = folder.sub("not-yet");
  auto logger = make_info_log(missing);
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, logger, "no folder yet");
  CHECK(info_log_lines_dropped(*logger) == 1);
  std::filesystem::create_directory(missing);
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, logger, "the folder is there");
  CHECK(file_bytes(missing + "/LOG").find("the folder is there") != std::string::npos);

  // A full disk: every line after the limit fails, and logging goes on (RocksDB's own file logger
  // aborts on the line after a failed one).
  const int status = in_child([&] {
    limit_file_bytes(file_size(missing + "/LOG") + 100);
    for (int i = 0; i < 50; ++i) rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, logger, "line %d after the disk filled", i);
    return info_log_lines_dropped(*logger) >= 45 ? 0 : 3;
  });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("ALedgerWhoseFilesCannotGrowAnswersErrorsAndDoesNotAbort") {
  // The whole log on a disk that fills: the info log (the largest file after the open, with
  // RocksDB's options in it) cannot grow at all, the write-ahead log a little. Appends then fail
  // with an error and RocksDB logs why, which with its own logger was an abort.
  TempFolder folder;
  const int status = in_child([&] {
    auto log = open_log(folder.path());
    if (!log->append(single("booking-a", ExpectedVersion::no_stream(), {event("BookingRequested")})).status.is_ok()) return 4;
    const uint64_t info_log_bytes = file_size(folder.sub("LOG"));
    if (info_log_bytes == 0) return 5;
    limit_file_bytes(info_log_bytes);
    int written = 0;
    int failures = 0;
    for (int i = 0; i < 5000 && failures < 5; ++i) {
      const std::string data = R"({"note":")" + std::string(400, 'x') + R"("})";
      const Status status = log->append(single("booking-" + std::to_string(i), ExpectedVersion::no_stream(),
                                                {event("BookingRequested", data)})).status;
      if (status.is_ok() && failures == 0) ++written;
      if (!status.is_ok()) {
        if (status.code() != Status::Code::io_error) return 7;
        ++failures;
      }
    }
    return written > 0 && failures == 5 ? 0 : 6;
  });
  CHECK_MESSAGE(WIFEXITED(status), "the child died of signal ", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  CHECK(WEXITSTATUS(status) == 0);
}
