#pragma once
// LogStore's private state, shared by the files that implement it (log_store_*.cpp,
// log_verify.cpp, log_checkpoint.cpp). Not for use outside engine/.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "engine/log_store.h"
#include "engine/record_codec.h"
#include "engine/rocksdb_tuning.h"
#include "engine/stream_version_cache.h"

namespace tl {

struct LogStore::Impl {
  explicit Impl(const LogOptions& log_options)
      : options(log_options), stream_versions(log_options.stream_cache_entries_max) {}
  ~Impl();

  LogOptions options;
  std::string path;
  std::string owned_secondary_path;  // made by open(), removed by the destructor
  std::string storage_damage;        // LogStore::storage_damage()
  bool storage_damage_read_past = false;  // LogStore::storage_damage_read_past()
  RocksTuning tuning;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* log_family = nullptr;
  rocksdb::ColumnFamilyHandle* projections_family = nullptr;

  // The head and the cache are read by any thread and changed only by the writer, under the
  // mutex and only after a write succeeded.
  mutable std::mutex state_mutex;
  LogHead committed_head;
  StreamVersionCache stream_versions;
  mutable std::atomic<uint64_t> stream_cache_hits{0};
  mutable std::atomic<uint64_t> stream_cache_misses{0};

  // Writer-only scratch, reused between appends.
  RecordEncoder encoder;
  JsonObjectChecker data_checker;
  std::string value_scratch;
  std::vector<std::pair<std::string, uint64_t>> index_scratch;  // `s` key -> position
  struct PendingVersion {
    uint32_t version = 0;             // the stream's version once the batch is written
    uint32_t* young_slot = nullptr;   // its cache entry, when young (StreamVersionCache::Found)
  };
  std::unordered_map<std::string_view, PendingVersion> batch_versions;
  std::vector<uint32_t> batch_first_versions;
  // The WriteBatch of every append, cleared before each use so that its buffer is allocated
  // once, not per batch (LogStore::append's writer_batch_for).
  rocksdb::WriteBatch write_batch;
  size_t write_batch_reserved_bytes = 0;

  bool secondary() const { return options.read_only_secondary; }
  LogHead head() const {
    std::lock_guard lock(state_mutex);
    return committed_head;
  }

  // A snapshot for reads that must agree with each other; null on a secondary, where RocksDB
  // has no snapshots and the data only moves when catch_up() is called.
  const rocksdb::Snapshot* take_snapshot() const { return secondary() ? nullptr : db->GetSnapshot(); }
  void release_snapshot(const rocksdb::Snapshot* snapshot) const {
    if (snapshot != nullptr) db->ReleaseSnapshot(snapshot);
  }

  // The version of `stream` in the database; 0 when none. `likely` (the version an append
  // expects, 0 for no guess) is checked first with one MultiGet of its key and the next, else a
  // reverse seek over its `s` keys finds the last.
  Status load_stream_version(std::string_view stream, uint32_t likely, uint32_t* version) const;
  // Reads the head from metadata (m last_position, m last_hash).
  Status load_metadata_head(LogHead* head) const;
  // The last `e` key's position and the hash field of its value; position 0 when the log is empty.
  Status load_last_event(LogHead* head) const;
  // Reads one stored value; not_found when there is no event at `position`.
  Status get_event_value(uint64_t position, std::string* value) const;
};

// Read options for long sequential walks over `e` keys: no block-cache pollution, readahead.
rocksdb::ReadOptions sequential_read_options(const rocksdb::Slice* upper_bound);
// Read options for short reads; total order always (the prefix extractor only feeds filters).
rocksdb::ReadOptions point_read_options();

Status from_rocksdb(const rocksdb::Status& status, std::string_view what);

}  // namespace tl
