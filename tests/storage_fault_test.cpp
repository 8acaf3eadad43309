// Storage faults: a full disk makes commands fail with 503 storage_unavailable and append nothing,
// reads go on, and the engine recovers by itself once writes succeed again; a damaged event
// stops start-up with its position; a damaged checkpoint is discarded and rebuilt.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include <fmt/format.h>

#include "engine/checkpoint_codec.h"
#include "engine/log_keys.h"
#include "engine/record_codec.h"
#include "engine/recovery.h"
#include "engine/state_hash.h"
#include "support/domain_harness.h"
#include "support/log_test_support.h"
#include "support/power_loss_fs.h"

using namespace tl;
using namespace tl::test;

namespace {

// An engine whose file system fails appends or syncs on demand (support/power_loss_fs.h).
class FaultyDiskRig {
 public:
  FaultyDiskRig() : disk_(stash_.path()) {
    options.data_dir = folder_.sub("data");
    options.storage_retry_ms = 1;
    options.log.env = disk_.env.get();
    open();
  }
  ~FaultyDiskRig() { close(); }

  void open() {
    const Status opened = Engine::open(options, std::make_unique<ManualClock>(clock_), &engine);
    REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  }
  void close() {
    if (engine == nullptr) return;
    clock_ = engine->now();
    engine->stop();
    engine.reset();
  }

  Reply run(const Actor& actor, CommandBody body, std::optional<IdempotencyTag> idempotency = std::nullopt) {
    std::promise<Reply> promise;
    auto future = promise.get_future();
    Submission submission{Command{actor, 0, fmt::format("c{}", ++commands_), std::move(body)}, std::move(idempotency),
                          {}, [&promise](Reply reply) { promise.set_value(std::move(reply)); }};
    REQUIRE(engine->submit(std::move(submission)) == SubmitResult::queued);
    return future.get();
  }
  Reply book(const std::string& id, std::optional<IdempotencyTag> idempotency = std::nullopt) {
    return run(student(), RequestBooking{id, "t1", "Maths", example_start, 60, etb_amount(35000)},
               std::move(idempotency));
  }
  Digest rebuilt_hash() const {
    State rebuilt;
    RecoveryReport report;
    const Status status = restore_state(engine->log(), /*use_checkpoint=*/false, &rebuilt, &report);
    REQUIRE_MESSAGE(status.is_ok(), status.to_string());
    return state_hash(rebuilt);
  }
  size_t count_events_of(const std::string& booking_id) const {
    size_t count = 0;
    const std::string stream = booking_stream(booking_id);
    REQUIRE(engine->log().scan(1, [&](const EventRecord& record) {
      count += record.stream == stream ? 1 : 0;
      return true;
    }).is_ok());
    return count;
  }
  Digest live_hash() const {
    return engine->read([](const State& state) { return state_hash(state); });
  }
  bool has_booking(const std::string& id) const {
    return engine->read([&](const State& state) { return state.find_booking(id) != nullptr; });
  }
  PowerLossFileSystem& disk() { return *disk_.file_system; }

  EngineOptions options;
  std::unique_ptr<Engine> engine;

 private:
  ScratchFolder folder_;
  ScratchFolder stash_;
  PowerLossEnv disk_;
  TimeMs clock_ = example_start - 2 * ms_per_day;
  uint64_t commands_ = 0;
};

// On a closed folder: the log verifies (hash chain, index = events) and the engine's state
// equals a rebuild from position 1.
void check_folder_is_consistent(const std::string& data_dir) {
  std::unique_ptr<LogStore> log;
  const Status opened = LogStore::open(data_dir, LogOptions{}, &log);
  REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  const VerifyReport report = log->verify();
  CHECK_MESSAGE(report.clean, "position ", report.first_bad_position, ": ", report.problem);
}

// While the fault lasts: every attempt is 503 storage_unavailable, nothing is appended, and reads
// are served from the unchanged state.
void check_refused_while_failing(FaultyDiskRig& rig) {
  const LogHead head_before = rig.engine->log().head();
  const Digest state_before = rig.live_hash();
  const uint64_t failures_before = rig.engine->stats().storage_failures_total;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const Reply refused = rig.book("bk_refused");
    CHECK(refused.status == 503);
    CHECK(refused.body.find("\"storage_unavailable\"") != std::string::npos);
  }
  CHECK(rig.engine->log().head().position == head_before.position);
  CHECK(rig.engine->log().head().hash == head_before.hash);
  CHECK(rig.live_hash() == state_before);
  CHECK(rig.has_booking("bk_1"));
  CHECK_FALSE(rig.has_booking("bk_refused"));
  CHECK(rig.engine->stats().storage_failures_total >= failures_before + 3);
  CHECK(rig.engine->stats().writes_failing);  // /healthz says "writes": "failing"
}

// After a clean restart the refused command is not in the log (the bytes of a failed sync did
// reach the WAL: they must not come back), the log is whole, and the engine goes on.
void check_refused_command_stays_out_after_restart(FaultyDiskRig& rig) {
  rig.close();
  check_folder_is_consistent(rig.options.data_dir);
  rig.open();
  CHECK_FALSE(rig.has_booking("bk_refused"));
  CHECK(rig.has_booking("bk_after"));
  CHECK(rig.book("bk_next").status == 200);
}

}  // namespace

TEST_CASE("ADiskFullIs503StorageUnavailableAppendsNothingAndTheEngineRecoversOnItsOwn") {
  FaultyDiskRig rig;
  REQUIRE(rig.book("bk_1").status == 200);
  rig.disk().fail_appends = true;  // NoSpace
  check_refused_while_failing(rig);

  // Room again. RocksDB's own recovery from NoSpace polls the free space every few seconds (its
  // SstFileManager); until it has run, commands keep getting 503, then succeed without a restart.
  rig.disk().fail_appends = false;
  const auto freed = std::chrono::steady_clock::now();
  Reply reply = rig.book("bk_after");
  while (reply.status == 503 && std::chrono::steady_clock::now() - freed < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reply = rig.book("bk_after");
  }
  const auto waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - freed).count();
  MESSAGE("commands succeed again ", waited_ms, " ms after the disk has room");
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  CHECK(rig.has_booking("bk_after"));
  CHECK_FALSE(rig.engine->stats().writes_failing);
  check_refused_command_stays_out_after_restart(rig);
}

TEST_CASE("AfterAFailedSyncWritesWaitForARestartWhichKeepsTheLogWholeAndRetriesIdempotent") {
  // A sync that fails with an I/O error (not NoSpace) is fatal to RocksDB: nobody knows what of
  // the batch reached the disk, so it refuses every write until the database is opened again, and
  // Resume() cannot clear it. The ledger keeps serving reads and answers 503 meanwhile. At the
  // restart the batch may come back from the WAL (its bytes were written, only the sync failed):
  // the log must be whole either way, and a client retrying with its Idempotency-Key must end
  // up with exactly one booking.
  FaultyDiskRig rig;
  REQUIRE(rig.book("bk_1").status == 200);
  const IdempotencyTag key{"retry-me", sha256("POST /api/bookings bk_refused")};
  rig.disk().fail_syncs = true;
  CHECK(rig.book("bk_refused", key).status == 503);
  check_refused_while_failing(rig);
  rig.disk().fail_syncs = false;
  CHECK(rig.book("bk_after").status == 503);
  CHECK(rig.has_booking("bk_1"));

  rig.close();
  check_folder_is_consistent(rig.options.data_dir);
  rig.open();
  const bool came_back = rig.has_booking("bk_refused");
  MESSAGE("the batch whose sync failed ", std::string(came_back ? "came back" : "did not come back"), " at the restart");
  CHECK(rig.live_hash() == rig.rebuilt_hash());
  const Reply retried = rig.book("bk_refused", key);
  CHECK_MESSAGE(retried.status == 200, retried.body);
  CHECK(retried.replayed == came_back);
  CHECK(rig.count_events_of("bk_refused") == 1);
  CHECK(rig.book("bk_after").status == 200);
}

namespace {

// Six bookings on a closed folder, with a checkpoint after the fourth when asked (and none at
// the stop), then one bit flipped inside the stored record at `damaged_position`.
void six_bookings_then_damage(const EngineOptions& options, bool checkpoint_after_four, uint64_t damaged_position) {
  {
    std::unique_ptr<Engine> engine;
    REQUIRE(Engine::open(options, std::make_unique<ManualClock>(example_start - ms_per_day), &engine).is_ok());
    auto book = [&](const std::string& id) {
      std::promise<Reply> promise;
      auto future = promise.get_future();
      Submission submission{Command{student(), 0, id, RequestBooking{id, "t1", "Maths", example_start, 60,
                                                                     etb_amount(35000)}},
                            std::nullopt, {}, [&promise](Reply reply) { promise.set_value(std::move(reply)); }};
      REQUIRE(engine->submit(std::move(submission)) == SubmitResult::queued);
      REQUIRE(future.get().status == 200);
    };
    for (int i = 1; i <= 4; ++i) book(fmt::format("bk_{}", i));
    if (checkpoint_after_four) {
      std::promise<Status> done;
      REQUIRE(engine->checkpoint([&](Status status) { done.set_value(status); }) == SubmitResult::queued);
      REQUIRE(done.get_future().get().is_ok());
    }
    for (int i = 5; i <= 6; ++i) book(fmt::format("bk_{}", i));
    engine->stop();
  }
  logtest::RawDb raw(options.data_dir);
  const std::string key = log_keys::event_key(damaged_position);
  std::string value = raw.get(key);
  REQUIRE(value.size() > 2 * stored_hash_tail_bytes);
  value[value.size() / 2] ^= 0x01;  // inside the record's canonical bytes, not its hash field
  raw.put(key, value);
}

}  // namespace

TEST_CASE("ADamagedEventStopsStartUpWithAStatusNamingItsPosition") {
  struct Damage {
    const char* name;
    uint64_t position;  // of 6 events
    bool with_checkpoint;
  };
  const Damage damages[] = {
      {"an event in the middle, no checkpoint", 3, false},
      {"the last event, no checkpoint", 6, false},
      {"the first event, no checkpoint", 1, false},
      {"an event after the checkpoint", 5, true},
  };
  for (const Damage& damage : damages) {
    CAPTURE(damage.name);
    logtest::TempFolder folder;
    EngineOptions options;
    options.data_dir = folder.sub("data");
    options.checkpoint_on_stop = false;
    six_bookings_then_damage(options, damage.with_checkpoint, damage.position);
    std::unique_ptr<Engine> engine;
    const Status opened = Engine::open(options, std::make_unique<ManualClock>(example_start - ms_per_day), &engine);
    CHECK(engine == nullptr);
    CHECK(opened.is_corruption());
    CHECK_MESSAGE(opened.message().find(fmt::format("position {}", damage.position)) != std::string::npos,
                  opened.to_string());
  }
}

TEST_CASE("ADamagedEventBeforeTheCheckpointIsFoundByVerifyNotAtStartUp") {
  // By design: start-up reads the checkpoint and the tail after it, not the whole log (that is
  // what a checkpoint is for). Damage below the checkpoint is for verify (`replay verify`).
  logtest::TempFolder folder;
  EngineOptions options;
  options.data_dir = folder.sub("data");
  options.checkpoint_on_stop = false;
  six_bookings_then_damage(options, /*checkpoint_after_four=*/true, /*damaged_position=*/2);
  std::unique_ptr<Engine> engine;
  const Status opened = Engine::open(options, std::make_unique<ManualClock>(example_start - ms_per_day), &engine);
  REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  CHECK(engine->recovery().checkpoint_used);
  const VerifyReport report = engine->log().verify();
  CHECK_FALSE(report.clean);
  CHECK(report.first_bad_position == 2);
  engine->stop();
}

TEST_CASE("ADamagedCheckpointIsDiscardedTheLogReplayedAndANewCheckpointWritten") {
  logtest::TempFolder folder;
  EngineOptions options;
  options.data_dir = folder.sub("data");
  options.log.checkpoint_chunk_bytes = 256;  // several chunks, so that one can go missing
  auto open = [&](std::unique_ptr<Engine>* engine) {
    const Status opened = Engine::open(options, std::make_unique<ManualClock>(example_start - ms_per_day), engine);
    REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  };
  Digest expected{};
  {
    std::unique_ptr<Engine> engine;
    open(&engine);
    for (int i = 1; i <= 8; ++i) {
      std::promise<Reply> promise;
      auto future = promise.get_future();
      const std::string id = fmt::format("bk_{}", i);
      Submission submission{Command{student(), 0, id, RequestBooking{id, "t1", "Maths", example_start, 60,
                                                                     etb_amount(35000)}},
                            std::nullopt, {}, [&promise](Reply reply) { promise.set_value(std::move(reply)); }};
      REQUIRE(engine->submit(std::move(submission)) == SubmitResult::queued);
      REQUIRE(future.get().status == 200);
    }
    expected = engine->read([](const State& state) { return state_hash(state); });
    engine->stop();  // writes the checkpoint
  }
  struct Damage {
    const char* name;
    const char* reason;  // a word the discard reason must contain
    std::function<void(logtest::RawDb&)> apply;
  };
  const Damage damages[] = {
      {"a flipped byte in a chunk", "checksum",
       [](logtest::RawDb& raw) {
         for (auto& [key, value] : raw.all(/*projections=*/true)) {
           if (key[0] != 'c') continue;
           value[value.size() / 2] ^= 0x20;
           raw.put(key, value, true);
           return;
         }
         FAIL("no checkpoint chunk");
       }},
      {"a missing chunk", "torn",
       [](logtest::RawDb& raw) {
         const auto entries = raw.all(/*projections=*/true);
         int chunks = 0;
         for (const auto& [key, value] : entries) chunks += key[0] == 'c' ? 1 : 0;
         REQUIRE(chunks >= 3);
         int seen = 0;
         for (const auto& [key, value] : entries) {
           if (key[0] == 'c' && ++seen == 2) raw.erase(key, true);
         }
       }},
      {"a header cut short", "malformed",
       [](logtest::RawDb& raw) {
         const std::string header = raw.get(checkpoint_header_key, true);
         REQUIRE(header.size() == checkpoint_header_bytes);
         raw.put(checkpoint_header_key, header.substr(0, header.size() - 1), true);
       }},
  };
  for (const Damage& damage : damages) {
    CAPTURE(damage.name);
    {
      logtest::RawDb raw(options.data_dir);
      damage.apply(raw);
    }
    std::unique_ptr<Engine> engine;
    open(&engine);
    CHECK_FALSE(engine->recovery().checkpoint_used);
    CHECK_MESSAGE(engine->recovery().checkpoint_discarded.find(damage.reason) != std::string::npos,
                  engine->recovery().checkpoint_discarded);
    CHECK(engine->recovery().events_replayed == 8);
    CHECK(engine->read([](const State& state) { return state_hash(state); }) == expected);
    engine->stop();  // rebuilds the checkpoint
    engine.reset();
    open(&engine);
    CHECK(engine->recovery().checkpoint_used);
    CHECK(engine->recovery().events_replayed == 0);
    CHECK(engine->read([](const State& state) { return state_hash(state); }) == expected);
    engine->stop();
  }
}
