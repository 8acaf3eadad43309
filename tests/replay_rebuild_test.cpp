// `replay rebuild`: the projections rebuilt from the log alone against the engine's checkpoint,
// compared at the checkpoint's position: equal, differs (another state, a torn checkpoint), or
// no checkpoint; a damaged log stops the rebuild at its position.
#include <doctest/doctest.h>

#include <functional>
#include <future>

#include <fmt/format.h>

#include "engine/log_keys.h"
#include "engine/recovery.h"
#include "engine/rocksdb_tuning.h"
#include "engine/sha256.h"
#include "engine/state_hash.h"
#include "projections/state_codec.h"
#include "replay/data_folder.h"
#include "replay/rebuild.h"
#include "replay/state_at.h"
#include "support/audit_cli_runner.h"
#include "support/event_log_writer.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::test;

namespace {

CliRun rebuild(const std::string& dir) { return run_replay({"rebuild", "--data", dir}); }

State state_up_to(const std::string& dir, uint64_t position) {
  std::unique_ptr<LogStore> log;
  REQUIRE(replay::open_data_folder(dir, &log).is_ok());
  replay::StateReplay replay(false);
  replay::Progress progress(nullptr, "", 0);
  replay::FeedLimits limits;
  limits.position_max = position;
  REQUIRE(!replay::replay_into(*log, limits, progress, replay).found());
  return replay.state();
}

// A checkpoint of `state` taken on this log; `change` may alter it before it is written.
void write_checkpoint_of(const std::string& dir, const State& state,
                         const std::function<void(Checkpoint&)>& change = [](Checkpoint&) {}) {
  std::unique_ptr<LogStore> log = logtest::open_log(dir);
  std::vector<EventRecord> records;
  REQUIRE(log->read_all(state.position, 1, &records).is_ok());
  REQUIRE(records.size() == 1);
  Checkpoint checkpoint = make_checkpoint(state, records[0].hash);
  change(checkpoint);
  REQUIRE(log->write_checkpoint(checkpoint).is_ok());
}

// What `replay rebuild` must print when the checkpoint at the head has state hash `stored_hash`:
// the rebuilt state's own hash, in the difference and on the head line.
void check_differs_at_head(const std::string& dir, const Digest& stored_hash) {
  const State rebuilt = state_up_to(dir, UINT64_MAX);
  const std::string rebuilt_hash = to_hex(state_hash(rebuilt));
  const CliRun run = rebuild(dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find(fmt::format("checkpoint: position {}: differs: the rebuilt state hash {} is not the checkpoint's {}",
                                         rebuilt.position, rebuilt_hash, to_hex(stored_hash))) != std::string::npos,
                run.out);
  CHECK_MESSAGE(run.out.find(fmt::format("head: position {}, state hash {}", rebuilt.position, rebuilt_hash)) !=
                    std::string::npos,
                run.out);
}

}  // namespace

TEST_CASE("CheckpointAtTheHeadEqualsTheRebuild") {
  EngineFixture f;
  run_seed_journeys(f);  // closing writes the checkpoint
  const CliRun run = rebuild(f.options.data_dir);
  CHECK_MESSAGE(run.exit_code == 0, run.out, run.err);
  const State state = state_up_to(f.options.data_dir, UINT64_MAX);
  const std::string hash = to_hex(state_hash(state));
  CHECK(run.out.find(fmt::format("checkpoint: position {}, state hash {}: equal", state.position, hash)) != std::string::npos);
  CHECK(run.out.find(fmt::format("head: position {}, state hash {}", state.position, hash)) != std::string::npos);
}

TEST_CASE("CheckpointBehindTheHeadIsComparedAtItsOwnPosition") {
  EngineFixture f;
  f.close();
  f.options.checkpoint_on_stop = false;
  f.open();
  f.book("bk_1", example_start);
  f.accept_and_pay("bk_1");
  std::promise<Status> written;
  REQUIRE(f.engine->checkpoint([&written](Status status) { written.set_value(status); }) == SubmitResult::queued);
  REQUIRE(written.get_future().get().is_ok());
  const uint64_t checkpointed = f.engine->log().head().position;
  f.book("bk_2", example_start + ms_per_hour);
  f.accept_and_pay("bk_2");
  const uint64_t head = f.engine->log().head().position;
  REQUIRE(head > checkpointed);
  f.close();

  const CliRun run = rebuild(f.options.data_dir);
  CHECK_MESSAGE(run.exit_code == 0, run.out);
  const State at_checkpoint = state_up_to(f.options.data_dir, checkpointed);
  CHECK(run.out.find(fmt::format("checkpoint: position {}, state hash {}: equal", checkpointed,
                                 to_hex(state_hash(at_checkpoint)))) != std::string::npos);
  CHECK(run.out.find(fmt::format("head: position {}, state hash {}", head,
                                 to_hex(state_hash(state_up_to(f.options.data_dir, head))))) != std::string::npos);
}

TEST_CASE("CheckpointOfAnotherStateDiffersWithExitOne") {
  EngineFixture f;
  run_seed_journeys(f);
  State state = state_up_to(f.options.data_dir, 30);
  state.bookings.front().subject = "Chemistry";  // a consistent checkpoint of a state the log never had
  write_checkpoint_of(f.options.data_dir, state);
  const CliRun run = rebuild(f.options.data_dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find("checkpoint: position 30: differs: the rebuilt state hash") != std::string::npos, run.out);
  CHECK(run.out.find("head: position") != std::string::npos);  // the head is still rebuilt and shown
}

TEST_CASE("CheckpointAtTheHeadThatDiffersNamesTheRebuiltStatesOwnHash") {
  // The rebuilt dump is hashed only where it differs from the stored one (whose hash is known):
  // every way of differing must still report the rebuilt state's true hash.
  EngineFixture f;
  run_seed_journeys(f);
  const std::string dir = f.options.data_dir;
  const State head_state = state_up_to(dir, UINT64_MAX);
  Digest stored_hash{};

  SUBCASE("another state") {
    State other = head_state;
    other.bookings.back().subject = "Chemistry";
    stored_hash = state_hash(other);
    write_checkpoint_of(dir, other);
  }
  SUBCASE("the same dump under another state hash") {
    write_checkpoint_of(dir, head_state, [&](Checkpoint& checkpoint) {
      checkpoint.state_hash[0] ^= 0x01;
      stored_hash = checkpoint.state_hash;
    });
  }
  SUBCASE("a dump cut short") {
    write_checkpoint_of(dir, head_state, [&](Checkpoint& checkpoint) {
      checkpoint.payload.resize(checkpoint.payload.size() - 9);
      checkpoint.state_hash = sha256(std::string_view(checkpoint.payload).substr(Digest{}.size()));
      stored_hash = checkpoint.state_hash;
    });
  }
  SUBCASE("a dump with bytes after its end") {
    write_checkpoint_of(dir, head_state, [&](Checkpoint& checkpoint) {
      checkpoint.payload += "more";
      checkpoint.state_hash = sha256(std::string_view(checkpoint.payload).substr(Digest{}.size()));
      stored_hash = checkpoint.state_hash;
    });
  }
  check_differs_at_head(dir, stored_hash);
}

TEST_CASE("CheckpointAtTheHeadTakenOnAnotherLogDiffers") {
  EngineFixture f;
  run_seed_journeys(f);
  const State head_state = state_up_to(f.options.data_dir, UINT64_MAX);
  write_checkpoint_of(f.options.data_dir, head_state, [](Checkpoint& checkpoint) { checkpoint.payload[3] ^= 0x01; });
  const CliRun run = rebuild(f.options.data_dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find(fmt::format("checkpoint: position {}: differs: the checkpoint was taken on another log",
                                         head_state.position)) != std::string::npos,
                run.out);
  CHECK(run.out.find(fmt::format("head: position {}, state hash {}", head_state.position,
                                 to_hex(state_hash(head_state)))) != std::string::npos);
}

TEST_CASE("CheckpointOfAnEarlierStateFormatIsNamedAndNotCalledADifference") {
  // A folder last served by the previous version: its checkpoint cannot be compared, and nothing
  // is wrong with it (the server replaces it when it next starts).
  EngineFixture f;
  run_seed_journeys(f);  // and closes, writing a checkpoint at the head
  uint64_t head = 0;
  {
    std::unique_ptr<LogStore> log = logtest::open_log(f.options.data_dir);
    std::optional<Checkpoint> checkpoint;
    REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
    REQUIRE(checkpoint);
    head = checkpoint->position;
    REQUIRE(head == log->head().position);
    checkpoint->payload[Digest{}.size() + 4] = static_cast<char>(state_format_version - 1);
    REQUIRE(log->write_checkpoint(*checkpoint).is_ok());
  }
  const CliRun run = rebuild(f.options.data_dir);
  CHECK_MESSAGE(run.exit_code == 0, run.out, run.err);
  CHECK_MESSAGE(run.out.find(fmt::format("checkpoint: position {}: state format {} of an earlier version, not compared",
                                         head, state_format_version - 1)) != std::string::npos,
                run.out);
  const std::string hash = to_hex(state_hash(state_up_to(f.options.data_dir, UINT64_MAX)));
  CHECK(run.out.find(fmt::format("head: position {}, state hash {}", head, hash)) != std::string::npos);
}

TEST_CASE("TornCheckpointDiffersWithExitOne") {
  EngineFixture f;
  run_seed_journeys(f);
  {
    logtest::RawDb raw(f.options.data_dir);
    auto entries = raw.all(/*projections=*/true);
    REQUIRE(!entries.empty());
    auto largest = std::max_element(entries.begin(), entries.end(),
                                    [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
    std::string value = largest->second;
    value[value.size() / 2] ^= 0x01;
    raw.put(largest->first, value, /*projections=*/true);
  }
  const CliRun run = rebuild(f.options.data_dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find(": differs: corruption") != std::string::npos, run.out);
}

TEST_CASE("LogWithoutACheckpointRebuildsWithExitZero") {
  logtest::TempFolder folder;
  const Money price{35000, *Currency::parse("ETB")};
  write_log(folder.sub("data"), {make_event("booking-bk_1", BookingRequested{"bk_1", "s1", "t1", "Maths", example_start, 60, price},
                                            student(), example_start - ms_per_day, "c1")});
  const CliRun run = rebuild(folder.sub("data"));
  CHECK_MESSAGE(run.exit_code == 0, run.out);
  CHECK(run.out.find("checkpoint: none") != std::string::npos);
  CHECK(run.out.find("head: position 1, state hash") != std::string::npos);
}

TEST_CASE("DamagedLogStopsTheRebuildAtItsPosition") {
  EngineFixture f;
  run_seed_journeys(f);
  {
    logtest::RawDb raw(f.options.data_dir);
    raw.erase(log_keys::event_key(12));
  }
  const CliRun run = rebuild(f.options.data_dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find("damaged: position 12: gap") != std::string::npos, run.out);
  CHECK_MESSAGE(run.out.find("position 12: position 12") == std::string::npos, run.out);  // named once
}

TEST_CASE("CheckpointInBlobFilesIsReportedUnreadableInsteadOfReadThroughASecondary") {
  // Databases written before checkpoints left blob files may hold them; RocksDB cannot read
  // blob files from a secondary instance (7.8 crashes), so the rebuild must not try.
  EngineFixture f;
  run_seed_journeys(f);
  {
    RocksTuning tuning = make_rocksdb_tuning(LogOptions{});
    tuning.projections.enable_blob_files = true;
    tuning.projections.min_blob_size = 1024;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(tuning.db, f.options.data_dir, column_family_descriptors(tuning), &handles, &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], "zz-old-chunk", std::string(64 * 1024, 'x')).ok());
    REQUIRE(db->Flush(rocksdb::FlushOptions(), handles[1]).ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
    db->Close();
    delete db;
  }
  const CliRun run = rebuild(f.options.data_dir);
  CHECK(run.exit_code == 1);
  CHECK_MESSAGE(run.out.find("checkpoint: unreadable: invalid argument: the checkpoint may be in RocksDB blob files") !=
                    std::string::npos,
                run.out);
  CHECK(run.out.find("head: position") != std::string::npos);
}
