#pragma once
// The event log on RocksDB (key layout in engine/FORMAT.md). Only engine/ knows RocksDB.
//
// One writer: append() is called from a single thread at a time. Reads may come from any thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event_record.h"
#include "engine/status.h"

namespace rocksdb {
class Env;
}

namespace tl {

// Limits of one append() and one read; larger requests are refused with invalid_argument.
constexpr size_t batch_events_max = 100'000;
constexpr size_t batch_idempotency_records_max = 100'000;
constexpr size_t read_events_max = 100'000;
// The schema_version this build writes and the only one it opens (engine/FORMAT.md).
constexpr uint32_t log_schema_version = 1;

struct LogOptions {
  bool create_if_missing = true;
  bool sync = true;                      // every append is one synced WriteBatch
  uint64_t block_cache_bytes = 64ull << 20;
  // Open as a RocksDB secondary instance: read-only, never writes to `path`. Its own info log
  // and metadata go to `secondary_path` (a scratch folder outside the data folder); when empty,
  // a fresh folder under the system temporary folder is made and removed again on close.
  bool read_only_secondary = false;
  std::string secondary_path;
  // For `replay verify` only (with read_only_secondary): when RocksDB refuses the folder because
  // a write-ahead-log record fails its checksum, open it anyway, read-only, skipping the damaged
  // records, so that the walk can name the first position they took with them. The damage is
  // kept in storage_damage(). Every other reader must refuse such a folder.
  bool skip_damaged_wal_records = false;
  // Streams whose current version is kept in memory (about 120 bytes each with 31-byte names,
  // measured; so about 30 MiB at the default); misses seek the `s` keys.
  size_t stream_cache_entries_max = 256 * 1024;
  // Checkpoint payloads are stored in values of this size (engine/FORMAT.md).
  uint32_t checkpoint_chunk_bytes = 4u << 20;
  uint64_t checkpoint_payload_bytes_max = 8ull << 30;
  // RocksDB environment; null means the default one. Tests pass one that injects I/O faults.
  rocksdb::Env* env = nullptr;
};

// Counters for sizing the stream-version cache.
struct LogStats {
  size_t stream_cache_entries = 0;
  size_t stream_cache_entries_max = 0;
  uint64_t stream_cache_hits = 0;
  uint64_t stream_cache_misses = 0;
};

struct AppendResult {
  Status status;                        // conflict names the stream; io_error when the write failed
  std::vector<EventRecord> records;     // the placed records, in position order (empty on error)
};

// What verify() found: clean, or the first bad position and what is wrong there.
struct VerifyReport {
  bool clean = true;
  uint64_t events_checked = 0;
  uint64_t first_bad_position = 0;      // 0 when clean
  std::string problem;                  // "hash mismatch", "gap: expected 7, found 9", ...
  LogHead head;                         // the last good position and hash
};

// A checkpoint of the projections: an opaque payload with the position it reflects.
struct Checkpoint {
  uint64_t position = 0;
  Digest state_hash{};
  std::string payload;
};

class LogStore {
 public:
  static Status open(const std::string& path, const LogOptions& options, std::unique_ptr<LogStore>* out);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Appends every event of the batch and its idempotency records in one synced WriteBatch.
  // All or nothing: a version conflict anywhere writes nothing and names the stream.
  AppendResult append(const AppendBatch& batch);

  // A read replica's append: stored values exactly as the primary wrote them (from the published
  // stream), verified before anything is written: gapless positions from this log's head,
  // prev_hash linked, hash recomputed, canonical encoding, stream versions in order. Written
  // like append(), so the stored bytes are identical to the primary's. Corruption names the
  // first bad position; nothing is written then.
  AppendResult append_replicated(const std::vector<std::string>& stored_values);

  LogHead head() const;
  // Empty, unless the log was opened with skip_damaged_wal_records and RocksDB found a damaged
  // write-ahead-log record: then what RocksDB said of it. The log then misses what that record
  // (and the rest of its 32 KiB block) held, wherever that was.
  const std::string& storage_damage() const;
  // With storage_damage(): whether the records after the damaged ones were read too (RocksDB
  // skipped the damage), or the log ends where the damage began (it could not read past it).
  bool storage_damage_read_past() const;
  // The current version of `stream`; 0 when it has no events (or the store cannot be read).
  uint32_t stream_version(std::string_view stream) const;
  LogStats stats() const;
  // RocksDB has a flush or compaction running or due (benchmarks wait for it between slices).
  bool background_work_pending() const;

  // Events of `stream` from `from_version` (inclusive), at most `limit`.
  Status read_stream(std::string_view stream, uint32_t from_version, size_t limit,
                     std::vector<EventRecord>* out) const;
  // Events from global position `from_position` (inclusive), at most `limit`.
  Status read_all(uint64_t from_position, size_t limit, std::vector<EventRecord>* out) const;
  // Visits events from `from_position` in order until the visitor returns false or the log ends.
  // The record passed to the visitor is reused between calls, and every field is set again for
  // the next one, so the visitor may take its contents (swap its strings out) instead of copying
  // them. Each record's hash is recomputed and linked to the one before; damage stops the scan
  // with corruption naming the position.
  Status scan(uint64_t from_position, const std::function<bool(EventRecord&)>& visit) const;
  // Like scan, but hands the visitor each stored value undecoded, with its hash: the chain is
  // checked from the values' fixed tails (engine/FORMAT.md; a value laid out otherwise is decoded
  // here to find them), so that another thread can decode the values. The visitor must decode
  // each value with RecordDecoder::decode_at, which checks that its position is the key's. A
  // damaged value stops the scan with corruption naming its position, as in scan.
  Status scan_stored(uint64_t from_position,
                     const std::function<bool(uint64_t position, std::string_view stored, const Digest& hash)>& visit) const;
  // Visits raw stored values (key position, value bytes) without decoding: the plain-scan baseline.
  Status scan_raw(uint64_t from_position, const std::function<bool(uint64_t, std::string_view)>& visit) const;

  // Walks the log from position 1: hash chain, gapless positions, stream versions in order,
  // decodable records. `progress` (may be empty) is called now and then with events checked.
  // `visit_good` (may be empty) is handed each record that passed its checks, in position order,
  // as the walk reaches it (the record is reused between calls and may be taken, as in scan),
  // so that a caller can also evolve the events without reading the log a second time.
  VerifyReport verify(const std::function<void(uint64_t)>& progress = {},
                      const std::function<void(EventRecord&)>& visit_good = {}) const;

  // nullopt when there is none, when it has expired (expire_idempotency_through), or when it
  // cannot be read or decoded.
  std::optional<IdempotencyRecord> find_idempotency(std::string_view actor, std::string_view key) const;
  // Idempotency records decided at or before `decided_at` are expired: find_idempotency() no
  // longer returns them, and compactions remove them. Only moves forward; nothing is expired
  // until the first call. Any thread.
  void expire_idempotency_through(TimeMs decided_at);
  // Compacts the idempotency records now (normally RocksDB does it when their files fill up):
  // expired ones leave the disk. Primary only; invalid_argument on a secondary.
  Status compact_idempotency_records();

  // Replaces the stored checkpoint atomically; its position must be at or below the head.
  // One caller at a time (it may run on another thread than append()).
  Status write_checkpoint(const Checkpoint& checkpoint);
  // nullopt and ok when there is none; corruption (and nullopt) when it is torn, fails its
  // checksum, or does not belong to this log (position past the head, or another hash there).
  Status read_checkpoint(std::optional<Checkpoint>* out) const;
  // The position in the checkpoint's header alone (nullopt and ok when there is none), unchecked:
  // `replay rebuild` knows where it will compare while read_checkpoint() is still reading the
  // payload beside it. corruption when the header is malformed.
  Status read_checkpoint_position(std::optional<uint64_t>* out) const;

  // Secondary instances only: catch up with what the primary has written since (head included).
  // A primary answers invalid_argument.
  Status catch_up();

  struct Impl;  // opaque outside engine/ (engine/log_store_impl.h)

 private:
  LogStore();
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
