// The audit commands while an engine writes to the same folder: they read through a RocksDB
// secondary instance, succeed, and see a consistent prefix of the log (whole commands, a clean
// chain, balances that sum to zero), never disturbing the writer.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "support/audit_cli_runner.h"
#include "support/engine_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

constexpr int bookings_max = 5'000;  // the writer's bound; it normally stops when the reader is done
constexpr int reader_rounds = 3;      // CLI rounds run while the writer writes

uint64_t position_in_state_document(const std::string& json) {
  const size_t at = json.find("\"position\":");
  REQUIRE(at != std::string::npos);
  return std::stoull(json.substr(at + 11));
}

}  // namespace

TEST_CASE("CommandsSeeAConsistentPrefixWhileTheEngineWrites") {
  EngineFixture f;
  const std::string dir = f.options.data_dir;
  std::atomic<int> booked{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < bookings_max && !stop; ++i) {
      const std::string id = fmt::format("bk_{}", i);
      f.book(id, example_start + i * ms_per_minute, student(fmt::format("s{}", i % 7)), fmt::format("t{}", i % 3));
      f.accept_and_pay(id, tutor(fmt::format("t{}", i % 3)), student(fmt::format("s{}", i % 7)));
      booked = i + 1;
    }
  });
  int rounds = 0;
  uint64_t last_seen = 0;
  // A fixed number of rounds, each while the writer goes on (it stops only when they are done), so
  // that a slow build (sanitizers) cannot let the writer finish before the reader started.
  while (rounds < reader_rounds) {
    ++rounds;
    const CliRun verified = run_replay({"verify", "--data", dir});
    REQUIRE_MESSAGE(verified.exit_code == 0, verified.out, verified.err);
    const CliRun rebuilt = run_replay({"rebuild", "--data", dir});
    CHECK_MESSAGE(rebuilt.exit_code == 0, rebuilt.out, rebuilt.err);
    const CliRun balance = run_export({"trial-balance", "--data", dir}, example_start);
    REQUIRE_MESSAGE(balance.exit_code == 0, balance.err);
    if (balance.out.find("ETB") != std::string::npos) CHECK(balance.out.find("TOTAL,ETB,0\r\n") != std::string::npos);
    const CliRun journal = run_export({"journal", "--data", dir});
    REQUIRE(journal.exit_code == 0);
    // Every capture moved money once: two rows per posting, whole commands only.
    CHECK(std::count(journal.out.begin(), journal.out.end(), '\n') % 2 == 1);
    const CliRun state = run_replay({"state", "--data", dir}, example_start);
    REQUIRE(state.exit_code == 0);
    const uint64_t position = position_in_state_document(state.out);
    CHECK(position >= last_seen);  // each new secondary sees at least what the last one saw
    last_seen = position;
  }
  stop = true;
  writer.join();
  CHECK(booked < bookings_max);  // the writer was still writing during every round
  // After the writer stops, a fresh secondary sees everything it wrote.
  const CliRun state = run_replay({"state", "--data", dir}, example_start);
  CHECK(position_in_state_document(state.out) == f.engine->log().head().position);
  CHECK(run_replay({"verify", "--data", dir}).exit_code == 0);
}
