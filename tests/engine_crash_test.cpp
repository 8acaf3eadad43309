// SIGKILL under load: a child process runs concurrent journeys through the engine and reports
// every acknowledged command over a pipe; the parent kills it at a random moment after its first
// acknowledged command, reopens the folder, and checks that nothing acknowledged was lost and
// nothing is half-written.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <future>
#include <poll.h>
#include <random>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/recovery.h"
#include "engine/state_hash.h"
#include "projections/invariants.h"
#include "projections/pending_timer.h"
#include "support/engine_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

// Runs in the child: never returns. Each acknowledged 2xx command is written to `report_fd` as
// "<command_id>\n" after its reply arrived (so after it was durable).
[[noreturn]] void child_workload(const std::string& data_dir, int report_fd) {
  EngineOptions options;
  options.data_dir = data_dir;
  options.checkpoint_events_max = 500;  // checkpoints happen while the child is killed, too
  std::unique_ptr<Engine> engine;
  if (!Engine::open(options, std::make_unique<ManualClock>(example_start - 2 * ms_per_day), &engine).is_ok()) _exit(3);
  auto run = [&](const Actor& actor, const std::string& command_id, CommandBody body) {
    std::promise<Reply> promise;
    auto future = promise.get_future();
    Submission submission{Command{actor, 0, command_id, std::move(body)}, std::nullopt, {},
                          [&promise](Reply reply) { promise.set_value(std::move(reply)); }};
    if (engine->submit(std::move(submission)) != SubmitResult::queued) return 503;
    const Reply reply = future.get();
    if (reply.status / 100 == 2) {
      const std::string line = command_id + "\n";
      if (write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
    }
    return reply.status;
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        const std::string id = fmt::format("bk_{}_{}", t, i);
        const Actor s = student(fmt::format("s{}", t));
        const Actor tu = tutor(fmt::format("t{}", t % 2));
        run(s, id + ":book", RequestBooking{id, tu.id, "Maths", example_start + i * ms_per_minute, 60, etb_amount(35000)});
        run(tu, id + ":accept", AcceptBooking{id});
        run(s, id + ":checkout", Checkout{id});
        run(system_actor(), id + ":pay", CapturePayment{"tx-" + id, "ref-" + id, "350.00", "ETB"});
      }
    });
  }
  for (auto& worker : workers) worker.join();
  _exit(0);
}

// How long the child may take to open the engine and acknowledge its first command (a loaded
// machine running the sanitizer build took over 300 ms).
constexpr int child_start_ms_max = 30'000;

// Kills the child `kill_after_ms` after its first acknowledged command (so that it is always
// under load when it dies, however slowly it started), or after child_start_ms_max without one.
std::set<std::string> acknowledged_before_kill(pid_t child, int report_fd, int kill_after_ms) {
  std::string received;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(child_start_ms_max);
  bool started = false;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd poll_fd{report_fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 5) > 0) {
      const ssize_t n = read(report_fd, buffer, sizeof buffer);
      if (n > 0) received.append(buffer, static_cast<size_t>(n));
    }
    if (!started && !received.empty()) {
      started = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Whatever the child wrote before it died is still in the pipe.
  for (ssize_t n; (n = read(report_fd, buffer, sizeof buffer)) > 0;) received.append(buffer, static_cast<size_t>(n));
  std::set<std::string> acknowledged;
  size_t start = 0;
  for (size_t end; (end = received.find('\n', start)) != std::string::npos; start = end + 1) {
    acknowledged.insert(received.substr(start, end - start));
  }
  return acknowledged;
}

}  // namespace

TEST_CASE("SigkillUnderLoadLosesNoAcknowledgedCommandAndNoTimer") {
  std::mt19937 random(20261125);
  for (int round = 0; round < 3; ++round) {
    const int kill_after_ms = std::uniform_int_distribution<int>(150, 700)(random);
    CAPTURE(kill_after_ms);
    logtest::TempFolder folder;
    const std::string data_dir = folder.sub("data");
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(pipe_fds[0]);
      child_workload(data_dir, pipe_fds[1]);
    }
    close(pipe_fds[1]);
    const std::set<std::string> acknowledged = acknowledged_before_kill(child, pipe_fds[0], kill_after_ms);
    close(pipe_fds[0]);
    MESSAGE("round ", round, ": killed after ", kill_after_ms, " ms with ", acknowledged.size(), " acknowledged");
    REQUIRE(acknowledged.size() > 10);

    // The log verifies on its own.
    {
      std::unique_ptr<LogStore> log;
      REQUIRE(LogStore::open(data_dir, LogOptions{}, &log).is_ok());
      const VerifyReport report = log->verify();
      REQUIRE_MESSAGE(report.clean, "position ", report.first_bad_position, ": ", report.problem);
    }
    EngineOptions options;
    options.data_dir = data_dir;
    std::unique_ptr<Engine> engine;
    const Status opened = Engine::open(options, std::make_unique<ManualClock>(example_start - 2 * ms_per_day), &engine);
    REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());

    // Every acknowledged command is in the log.
    std::set<std::string> logged;
    REQUIRE(engine->log().scan(1, [&](const EventRecord& record) {
      logged.insert(record.command_id);
      return true;
    }).is_ok());
    for (const auto& command_id : acknowledged) CHECK_MESSAGE(logged.contains(command_id), command_id);

    // The projections equal a rebuild from scratch, hold the invariants, and every pending timer
    // is scheduled.
    State rebuilt;
    RecoveryReport rebuild_report;
    REQUIRE(restore_state(engine->log(), false, &rebuilt, &rebuild_report).is_ok());
    uint64_t timers_expected = 0;
    engine->read([&](const State& state) {
      CHECK(state_hash(state) == state_hash(rebuilt));
      CHECK(check_invariants(state).empty());
      for (const auto& booking : state.bookings) timers_expected += pending_timer(booking, options.policy) ? 1 : 0;
      return 0;
    });
    CHECK(engine->stats().timers_pending == timers_expected);
    engine->stop();
  }
}
