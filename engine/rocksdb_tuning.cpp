#include "engine/rocksdb_tuning.h"

#include <algorithm>
#include <cstring>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_partitioner.h>
#include <rocksdb/table.h>

#include "engine/log_keys.h"

namespace tl {
namespace {

// Memtable insert hints. With a hint, the skip list starts an insert from where the previous
// key of the same hint went and repairs only the levels that moved, instead of searching from
// the top (a full search costs several microseconds of cache misses in a 64 MiB memtable):
//   `e` keys arrive in increasing order: one hint for all of them;
//   `s` keys of a batch are handed over sorted by append(): one hint for all of them;
//   each `m` key is rewritten by every append: one hint per key, so its new version goes
//   straight in front of the previous one.
// Measured: the `s` index went from about 3.7 to about 1.2 µs of writer CPU per event (unsynced,
// 1,000-event batches, 50,000 streams); a one-event append from about 20 to about 8 µs.
class KeyInsertHint : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tl.KeyInsertHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    if (key[0] == log_keys::meta_tag) return key;
    return rocksdb::Slice(key.data(), 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return !key.empty() && (key[0] == log_keys::event_tag || key[0] == log_keys::stream_tag || key[0] == log_keys::meta_tag);
  }
};

// Bloom filters only where a look-up usually misses: an idempotency key (`i`, whole key: most
// requests carry a new one) and a stream's index prefix (`s` + stream + \0: append() must learn
// that a new booking's stream has no events yet). `e` keys are only read by iterators, so a
// filter over them would be memory spent for nothing; they stay out of the filter's domain.
// The prefix of an `s` key ends at its first \0, which is the separator (streams hold no NUL),
// so Transform(Transform(key)) == Transform(key) as RocksDB requires.
class FilterDomain : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tl.FilterDomain"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    if (key[0] == log_keys::idempotency_tag) return key;
    const void* separator = std::memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(separator) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    if (key.empty()) return false;
    if (key[0] == log_keys::idempotency_tag) return true;
    return key[0] == log_keys::stream_tag && std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

bool supported(rocksdb::CompressionType type) {
  const std::vector<rocksdb::CompressionType> all = rocksdb::GetSupportedCompressions();
  return std::find(all.begin(), all.end(), type) != all.end();
}

rocksdb::CompressionType fast_compression() {
  if (supported(rocksdb::kLZ4Compression)) return rocksdb::kLZ4Compression;
  if (supported(rocksdb::kSnappyCompression)) return rocksdb::kSnappyCompression;
  return rocksdb::kNoCompression;
}

}  // namespace

RocksTuning make_rocksdb_tuning(const LogOptions& options) {
  RocksTuning tuning;
  rocksdb::DBOptions& db = tuning.db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  if (options.env != nullptr) db.env = options.env;
  db.max_background_jobs = 2;
  db.bytes_per_sync = 1 << 20;            // smooth SST write-back instead of bursts at fsync
  db.max_total_wal_size = 512ull << 20;
  db.keep_log_file_num = 4;               // RocksDB's own info LOG files
  // One writer, one synced WriteBatch per group commit: keep the WAL written and synced in
  // commit order (no unordered_write, no manual flush), and recover to the last whole batch (a
  // primary tries kAbsoluteConsistency first and uses this only for a torn tail: log_store_open).
  db.unordered_write = false;
  db.manual_wal_flush = false;
  db.enable_pipelined_write = false;
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  if (options.read_only_secondary) db.max_open_files = -1;  // required for a secondary instance

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 16 * 1024;           // sequential scans of ~350-byte records
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = false;      // the filter holds only the FilterDomain prefixes

  rocksdb::ColumnFamilyOptions& log = tuning.log;
  log.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  log.prefix_extractor = std::make_shared<FilterDomain>();
  log.memtable_prefix_bloom_size_ratio = 0.02;  // the same answer for the memtables
  log.memtable_insert_with_hint_prefix_extractor = std::make_shared<KeyInsertHint>();
  // 64 MiB memtables: larger ones flush less often but make every random `s` insert slower
  // (more skip-list levels, fewer cache hits); smaller ones mean more L0 files.
  log.write_buffer_size = 64ull << 20;
  log.max_write_buffer_number = 4;
  // SST files hold one key tag each. `e` keys only grow, so a new `e` file never overlaps an
  // older one and compaction can move it down a level without rewriting the events; mixed
  // files would span 'e'..'s' and drag every older event file into every compaction.
  log.sst_partitioner_factory = rocksdb::NewSstPartitionerFixedPrefixFactory(1);
  log.target_file_size_base = 64ull << 20;
  log.max_bytes_for_level_base = 512ull << 20;
  log.level_compaction_dynamic_level_bytes = true;
  log.compression = fast_compression();
  log.bottommost_compression = supported(rocksdb::kZSTD) ? rocksdb::kZSTD : fast_compression();
  tuning.idempotency_expiry = std::make_shared<IdempotencyExpiry>();
  log.compaction_filter_factory = std::make_shared<IdempotencyExpiryFilterFactory>(tuning.idempotency_expiry);
  // With a compaction filter, RocksDB would otherwise rewrite every file once every 30 days
  // ("periodic compaction"), the whole event log included. Expired idempotency records are
  // dropped by the compactions their own newer records cause; events are never rewritten for it.
  log.periodic_compaction_seconds = 0;

  rocksdb::BlockBasedTableOptions projection_table;
  projection_table.block_cache = cache;
  rocksdb::ColumnFamilyOptions& projections = tuning.projections;
  projections.table_factory.reset(rocksdb::NewBlockBasedTableFactory(projection_table));
  // Checkpoint chunks stay in the SST files, not in blob files: RocksDB cannot read blob files
  // from a secondary instance (unsupported; 7.8 crashes in BlobSource::GetBlob), and the audit
  // CLI reads checkpoints through one (`replay rebuild`). Compaction copies a few chunks of a
  // few MiB per checkpoint, which is small beside the log.
  projections.enable_blob_files = false;
  projections.write_buffer_size = 64ull << 20;
  return tuning;
}

std::vector<rocksdb::ColumnFamilyDescriptor> column_family_descriptors(const RocksTuning& tuning) {
  return {rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName, tuning.log),
          rocksdb::ColumnFamilyDescriptor(projections_column_family, tuning.projections)};
}

bool background_work_pending(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families) {
  uint64_t value = 0;
  for (const char* running : {"rocksdb.num-running-flushes", "rocksdb.num-running-compactions"}) {
    if (db.GetIntProperty(running, &value) && value > 0) return true;
  }
  for (rocksdb::ColumnFamilyHandle* family : families) {
    for (const char* due : {"rocksdb.mem-table-flush-pending", "rocksdb.compaction-pending"}) {
      if (db.GetIntProperty(family, due, &value) && value > 0) return true;
    }
  }
  return false;
}

}  // namespace tl
