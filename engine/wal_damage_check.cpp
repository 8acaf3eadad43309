#include "engine/wal_damage_check.h"

#include <cassert>

#include <fmt/format.h>

#include "engine/read_only_open.h"

namespace tl {
namespace {

// The last sequence number a read-only open recovers in `mode`, or the open's failure.
rocksdb::Status recovered_sequence(const std::string& path, const RocksTuning& tuning,
                                   const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                   rocksdb::WALRecoveryMode mode, rocksdb::SequenceNumber* sequence) {
  rocksdb::DBOptions options = tuning.db;
  options.wal_recovery_mode = mode;
  return open_read_only_briefly(path, options, families,
                                [sequence](rocksdb::DB& db) { *sequence = db.GetLatestSequenceNumber(); });
}

}  // namespace

Status check_wal_damage_is_a_torn_tail(const std::string& path, const RocksTuning& tuning,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const rocksdb::Status& strict_failure) {
  assert(strict_failure.IsCorruption());
  const std::string refused =
      fmt::format("{}: the write-ahead log is damaged ({}), and the log will not open for writing on it", path,
                  strict_failure.ToString());
  const std::string advice =
      "`tutorledger replay verify` names the first position the damage took; restore the folder from a backup or "
      "a replica, or move the damaged folder aside";
  rocksdb::SequenceNumber kept = 0;
  rocksdb::SequenceNumber readable = 0;
  const rocksdb::Status to_the_damage =
      recovered_sequence(path, tuning, families, rocksdb::WALRecoveryMode::kPointInTimeRecovery, &kept);
  const rocksdb::Status past_the_damage =
      recovered_sequence(path, tuning, families, rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords, &readable);
  if (!to_the_damage.ok() || !past_the_damage.ok()) {
    // Not the write-ahead log alone (a table file or the manifest, say): RocksDB's own answer.
    return Status::corruption(fmt::format("opening {}: {}", path, strict_failure.ToString()));
  }
  if (readable > kept) {
    return Status::corruption(fmt::format(
        "{}: writes up to sequence {} follow the damage, and recovering to it (sequence {}) would drop them; {}",
        refused, readable, kept, advice));
  }
  return Status::ok();  // a torn tail: nothing after it to lose
}

}  // namespace tl
