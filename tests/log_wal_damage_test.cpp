// A damaged write-ahead-log record: a primary refuses to open when intact writes follow it
// (recovering to the damage would drop acknowledged events and reuse their positions), and
// recovers a torn tail (a batch cut short by a crash, never acknowledged) to its last whole batch.
// Nothing it refuses is changed on disk, so `replay verify` can still name the lost positions.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "engine/log_store.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

namespace fs = std::filesystem;

constexpr int batches_count = 40;  // about 2 KiB each: the WAL spans several of its 32 KiB blocks

// A closed log of `batches_count` synced appends, one event each, all still in its WAL.
fs::path closed_log_in_wal(const std::string& path) {
  {
    auto log = open_log(path);
    const std::string data = "{\"note\":\"" + std::string(2000, 'n') + "\"}";
    for (int i = 0; i < batches_count; ++i) {
      REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("Noted", data)})).status.is_ok());
    }
  }
  const fs::path wal = newest_write_ahead_log(path);
  REQUIRE(!wal.empty());
  REQUIRE(fs::file_size(wal) > 64 * 1024);
  return wal;
}

}  // namespace

TEST_CASE("PrimaryRefusesAWriteAheadLogWhoseDamageIsFollowedByIntactWrites") {
  TempFolder folder;
  const fs::path wal = closed_log_in_wal(folder.path());
  flip_byte(wal.string(), 1000);  // inside the first batches
  const std::string damaged = file_bytes(wal.string());

  for (int attempt = 0; attempt < 2; ++attempt) {  // refused again, not recovered by the first try
    std::unique_ptr<LogStore> log;
    const Status status = LogStore::open(folder.path(), LogOptions{}, &log);
    CHECK(status.is_corruption());
    CHECK_MESSAGE(status.message().find("the write-ahead log is damaged (Corruption: ") != std::string::npos,
                  status.message());
    CHECK_MESSAGE(status.message().find("follow the damage") != std::string::npos, status.message());
    CHECK(status.message().find("replay verify") != std::string::npos);
    CHECK(log == nullptr);
  }
  CHECK(fs::exists(wal));
  CHECK(file_bytes(wal.string()) == damaged);

  // What verify reads: every later batch is still there, after a gap where the damage was.
  LogOptions audit;
  audit.read_only_secondary = true;
  audit.skip_damaged_wal_records = true;
  std::unique_ptr<LogStore> secondary;
  REQUIRE(LogStore::open(folder.path(), audit, &secondary).is_ok());
  CHECK(!secondary->storage_damage().empty());
  CHECK(secondary->head().position == batches_count);
  const VerifyReport report = secondary->verify();
  CHECK_FALSE(report.clean);
  CHECK(report.first_bad_position == 1);
  CHECK_MESSAGE(report.problem.starts_with("gap: "), report.problem);
}

TEST_CASE("PrimaryRecoversATornTailToItsLastWholeBatch") {
  TempFolder folder;
  const fs::path wal = closed_log_in_wal(folder.path());
  fs::resize_file(wal, fs::file_size(wal) - 100);  // the last batch cut short, as a crash mid-write leaves it

  auto log = open_log(folder.path());
  CHECK(log->head().position == batches_count - 1);
  REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("Noted")})).status.is_ok());
  CHECK(log->head().position == batches_count);
  log.reset();
  CHECK(verify_as_secondary(folder.path()).clean);
}

TEST_CASE("PrimaryOpensAnUndamagedWriteAheadLogWithEveryBatch") {
  TempFolder folder;
  closed_log_in_wal(folder.path());
  auto log = open_log(folder.path());
  CHECK(log->head().position == batches_count);
  std::unique_ptr<LogStore> audit;
  LogOptions options;
  options.read_only_secondary = true;
  options.skip_damaged_wal_records = true;
  log.reset();
  REQUIRE(LogStore::open(folder.path(), options, &audit).is_ok());
  CHECK(audit->storage_damage().empty());
}

// A checkpoint of several MiB is one WAL record over hundreds of 32 KiB blocks. Damage inside it
// makes RocksDB 7.8's skipping read fail ("Write batch content corrupted") on the records after
// it; the audit open then reads up to the damage (replay_verify_test: what verify says of it).
TEST_CASE("AuditOpenReadsUpToADamagedCheckpointRecordItCannotSkip") {
  TempFolder folder;
  fs::path wal;
  uint64_t checkpoint_starts = 0;
  uint64_t checkpoint_ends = 0;
  {
    auto log = open_log(folder.path());
    const std::string data = "{\"note\":\"" + std::string(2000, 'n') + "\"}";
    const auto append_batches = [&] {
      for (int i = 0; i < batches_count; ++i) {
        REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("Noted", data)})).status.is_ok());
      }
    };
    append_batches();
    wal = newest_write_ahead_log(folder.path());
    REQUIRE(!wal.empty());
    checkpoint_starts = fs::file_size(wal);
    Checkpoint checkpoint;
    checkpoint.position = batches_count;
    checkpoint.payload = std::string(9 << 20, 'c');  // three chunks of LogOptions' 4 MiB
    REQUIRE(log->write_checkpoint(checkpoint).is_ok());
    checkpoint_ends = fs::file_size(wal);
    append_batches();  // intact writes after the damage
  }
  REQUIRE(checkpoint_ends > checkpoint_starts + (9 << 20));
  flip_byte(wal.string(), (checkpoint_starts + checkpoint_ends) / 2);

  LogOptions audit;
  audit.read_only_secondary = true;
  audit.skip_damaged_wal_records = true;
  std::unique_ptr<LogStore> secondary;
  const Status opened = LogStore::open(folder.path(), audit, &secondary);
  REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  CHECK_MESSAGE(secondary->storage_damage().find("Corruption: ") != std::string::npos, secondary->storage_damage());
  CHECK_FALSE(secondary->storage_damage_read_past());
  CHECK(secondary->head().position == batches_count);  // the events before the damage

  const VerifyReport report = secondary->verify();  // what it read verifies; replay verify names the rest
  CHECK(report.clean);
  CHECK(report.events_checked == batches_count);

  // Without the flag, every other reader refuses the folder.
  secondary.reset();
  audit.skip_damaged_wal_records = false;
  CHECK(LogStore::open(folder.path(), audit, &secondary).is_corruption());
}
