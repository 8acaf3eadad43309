// Crash safety: a child process appends batches in a loop and reports each acknowledged batch
// over a pipe; the parent kills it with SIGKILL at a random moment. After every kill the log
// must verify and hold every batch the child reported.
//
// The parent never touches RocksDB until the last child is dead: a fork of a process that
// already runs RocksDB's background threads would inherit their locks but not the threads.
// That is also why this test has a file (and so a process) of its own.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "engine/log_store.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

constexpr uint32_t events_per_batch = 3;
constexpr int kill_rounds = 5;
// Counted from the child's "verified" line, i.e. from the start of its append loop.
constexpr int kill_delay_ms_min = 0;
constexpr int kill_delay_ms_max = 400;

std::string batch_data(uint64_t batch, uint32_t index) { return fmt::format(R"({{"batch":{},"i":{}}})", batch, index); }

void send(int fd, const std::string& line) {
  const ssize_t written = write(fd, line.data(), line.size());  // under PIPE_BUF: atomic
  (void)written;
}

// The child: opens (recovering whatever the last kill left), verifies, then appends forever.
[[noreturn]] void run_child(const std::string& path, int fd) {
  std::unique_ptr<LogStore> log;
  if (Status status = LogStore::open(path, LogOptions{}, &log); !status.is_ok()) {
    send(fd, fmt::format("error open {}\n", status.to_string()));
    _exit(3);
  }
  const VerifyReport report = log->verify();
  send(fd, fmt::format("verified {} {} {}\n", report.clean ? 1 : 0, report.events_checked, report.first_bad_position));
  uint64_t batch = log->stream_version("crash") / events_per_batch + 1;
  for (;; ++batch) {
    AppendBatch append;
    std::vector<NewEvent> events;
    for (uint32_t i = 0; i < events_per_batch; ++i) events.push_back(event("Tick", batch_data(batch, i)));
    append.streams.push_back(stream_append("crash", ExpectedVersion::exact(static_cast<uint32_t>((batch - 1) * events_per_batch)), std::move(events)));
    append.streams.push_back(stream_append(fmt::format("side-{}", batch % 7), ExpectedVersion::any(), {event("Side", batch_data(batch, 0))}));
    IdempotencyRecord answer;
    answer.actor = "system";
    answer.key = fmt::format("batch-{}", batch);
    answer.status = 200;
    answer.body = batch_data(batch, 0);
    answer.decided_at = 1;
    append.idempotency.push_back(answer);
    if (Status status = log->append(append).status; !status.is_ok()) {
      send(fd, fmt::format("error append {}\n", status.to_string()));
      _exit(4);
    }
    send(fd, fmt::format("ack {}\n", batch));
  }
}

struct ChildReport {
  std::vector<uint64_t> acked;
  bool verified_clean = false;
  std::string errors;
};

// Reads from `fd` into `text` until `until` appears in it or the pipe is closed.
void read_until(int fd, std::string& text, std::string_view until) {
  char buffer[4096];
  while (until.empty() || text.find(until) == std::string::npos) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got == 0 || (got < 0 && errno != EINTR)) return;
    if (got > 0) text.append(buffer, static_cast<size_t>(got));
  }
}

ChildReport parse_report(const std::string& text) {
  ChildReport report;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("ack ")) report.acked.push_back(std::stoull(line.substr(4)));
    if (line.starts_with("verified 1 ")) report.verified_clean = true;
    if (line.starts_with("error")) report.errors += line + "\n";
  }
  return report;
}

}  // namespace

TEST_CASE("KilledWriterLeavesALogThatVerifiesAndHoldsEveryAcknowledgedBatch") {
  TempFolder folder;
  const std::string path = folder.sub("data");
  // TL_CRASH_SEED=<seed> replays the kill delays of an earlier run.
  const char* seed_text = std::getenv("TL_CRASH_SEED");
  const uint32_t seed = seed_text != nullptr ? static_cast<uint32_t>(std::stoul(seed_text)) : std::random_device{}();
  MESSAGE("kill delays seed " << seed << " (TL_CRASH_SEED)");
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(kill_delay_ms_min, kill_delay_ms_max);

  std::set<uint64_t> acked;
  int last_acking_round = -1;
  for (int round = 0; round < kill_rounds; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      run_child(path, fds[1]);
    }
    close(fds[1]);
    std::string text;
    read_until(fds[0], text, "\n");  // the "verified" line (or an error)
    const int delay = delay_ms(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    REQUIRE(kill(child, SIGKILL) == 0);
    int wait_status = 0;
    REQUIRE(waitpid(child, &wait_status, 0) == child);
    read_until(fds[0], text, "");  // to the end: everything the child reported before it died
    close(fds[0]);
    const ChildReport report = parse_report(text);
    INFO("round " << round << ", killed after " << delay << " ms: " << report.errors);
    CHECK(report.errors.empty());
    CHECK(WIFSIGNALED(wait_status));
    CHECK(report.verified_clean);  // what the previous kill left behind
    acked.insert(report.acked.begin(), report.acked.end());
    if (!report.acked.empty()) last_acking_round = round;
  }
  REQUIRE_FALSE(acked.empty());  // not every round can ack (a delay of 0 ms), but some must

  auto log = open_log(path);
  const VerifyReport report = log->verify();
  INFO(report.problem);
  CHECK(report.clean);
  const uint32_t version = log->stream_version("crash");
  CHECK(version % events_per_batch == 0);                           // whole batches only
  const uint64_t batches = version / events_per_batch;
  CHECK(batches >= *acked.rbegin());
  // A kill between a batch's write and its "ack" line leaves that batch in the log unreported:
  // at most one per round. Those after the last acknowledged batch come from the round that
  // acknowledged it and from the later rounds, which acknowledged nothing (killed early).
  CHECK(batches <= *acked.rbegin() + static_cast<uint64_t>(kill_rounds - last_acking_round));
  CHECK(log->head().position == batches * (events_per_batch + 1));  // and its side event with it
  for (const uint64_t batch : acked) {
    std::vector<EventRecord> events;
    REQUIRE(log->read_stream("crash", static_cast<uint32_t>((batch - 1) * events_per_batch + 1), events_per_batch, &events).is_ok());
    REQUIRE(events.size() == events_per_batch);
    for (uint32_t i = 0; i < events_per_batch; ++i) CHECK(events[i].data == batch_data(batch, i));
    CHECK(log->find_idempotency("system", fmt::format("batch-{}", batch)).has_value());
  }
  MESSAGE(acked.size() << " acknowledged batches over " << kill_rounds << " kills; " << batches << " in the log");
}
