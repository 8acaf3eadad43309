// Reads: head, stream versions, events by stream and by position, scans, idempotency records.
#include <cassert>
#include <limits>

#include <fmt/format.h>

#include "engine/big_endian.h"
#include "engine/canonical_record.h"
#include "engine/idempotency_codec.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"
#include "engine/rocksdb_tuning.h"

namespace tl {
namespace {

// Reads may come from any thread: each thread decodes with its own parser and buffer.
RecordDecoder& thread_decoder() {
  thread_local RecordDecoder decoder;
  return decoder;
}

// The hash a scan from `from_position` links its first record to: zeros before position 1, and
// unknown (not checked) when the scan starts past it.
std::optional<Digest> hash_before(uint64_t from_position) {
  if (from_position <= 1) return Digest{};
  return std::nullopt;
}

// Decodes the value at `position` and checks that it links to `previous_hash` (when known) and
// that its hash recomputes from its bytes.
Status decode_linked(RecordDecoder& decoder, uint64_t position, std::string_view value,
                     const std::optional<Digest>& previous_hash, EventRecord* out) {
  if (Status status = decoder.decode_at(position, value, out); !status.is_ok()) return status;
  if (previous_hash && out->prev_hash != *previous_hash) {
    return Status::corruption(fmt::format("position {}: prev_hash is not the hash of position {}", position, position - 1));
  }
  if (decoder.compute_hash(value, out->prev_hash, position) != out->hash) {
    return Status::corruption(fmt::format("position {}: hash mismatch", position));
  }
  return Status::ok();
}

// Walks the event values from `from_position` in key order, refusing a malformed key or a gap,
// and hands each to `step(position, value, &more)`: a status that is not ok ends the walk with
// it, and `more` set to false ends it as done.
template <class Step>
Status walk_event_values(const LogStore::Impl& impl, uint64_t from_position, const Step& step) {
  const rocksdb::Slice upper_bound(log_keys::event_keys_end);
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(sequential_read_options(&upper_bound), impl.log_family));
  uint64_t expected = std::max<uint64_t>(from_position, 1);
  for (it->Seek(log_keys::event_key(expected)); it->Valid(); it->Next(), ++expected) {
    const std::optional<uint64_t> position = log_keys::parse_event_key(it->key().ToStringView());
    if (!position) return Status::corruption(fmt::format("after position {}: malformed event key", expected - 1));
    if (*position != expected) return Status::corruption(fmt::format("gap: expected position {}, found {}", expected, *position));
    bool more = true;
    if (Status status = step(expected, it->value().ToStringView(), &more); !status.is_ok()) return status;
    if (!more) return Status::ok();
  }
  return from_rocksdb(it->status(), "scanning events");
}

Status check_limit(size_t limit) {
  if (limit > read_events_max) {
    return Status::invalid_argument(fmt::format("limit {} is over the limit of {} events per read", limit, read_events_max));
  }
  return Status::ok();
}

}  // namespace

LogHead LogStore::head() const { return impl_->head(); }

const std::string& LogStore::storage_damage() const { return impl_->storage_damage; }
bool LogStore::storage_damage_read_past() const { return impl_->storage_damage_read_past; }

uint32_t LogStore::stream_version(std::string_view stream) const {
  const Impl& impl = *impl_;
  if (!impl.secondary()) {
    std::lock_guard lock(impl.state_mutex);
    if (std::optional<uint32_t> cached = impl.stream_versions.find(stream)) {
      ++impl.stream_cache_hits;
      return *cached;
    }
  }
  ++impl.stream_cache_misses;
  uint32_t version = 0;
  if (!impl.load_stream_version(stream, /*likely=*/0, &version).is_ok()) return 0;
  return version;
}

LogStats LogStore::stats() const {
  const Impl& impl = *impl_;
  LogStats stats;
  std::lock_guard lock(impl.state_mutex);
  stats.stream_cache_entries = impl.stream_versions.size();
  stats.stream_cache_entries_max = impl.stream_versions.entries_max();
  stats.stream_cache_hits = impl.stream_cache_hits.load();
  stats.stream_cache_misses = impl.stream_cache_misses.load();
  return stats;
}

bool LogStore::background_work_pending() const {
  const Impl& impl = *impl_;
  return tl::background_work_pending(*impl.db, {impl.log_family});
}

Status LogStore::read_stream(std::string_view stream, uint32_t from_version, size_t limit,
                             std::vector<EventRecord>* out) const {
  assert(out != nullptr);
  out->clear();
  if (Status status = check_limit(limit); !status.is_ok()) return status;
  if (limit == 0 || stream.empty() || stream.find('\0') != std::string_view::npos) return Status::ok();
  const Impl& impl = *impl_;
  std::string upper = log_keys::stream_key_prefix(stream);
  upper.back() = '\1';
  const rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions read = point_read_options();
  read.iterate_upper_bound = &upper_bound;
  // A snapshot keeps the index entries and the events they point to consistent with each other.
  const rocksdb::Snapshot* snapshot = impl.take_snapshot();
  read.snapshot = snapshot;
  std::vector<std::string> event_keys;
  std::vector<uint32_t> versions;
  Status status;
  {
    std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read, impl.log_family));
    for (it->Seek(log_keys::stream_key(stream, std::max<uint32_t>(from_version, 1))); it->Valid() && event_keys.size() < limit; it->Next()) {
      const std::optional<log_keys::StreamKey> key = log_keys::parse_stream_key(it->key().ToStringView());
      if (!key || key->stream != stream || it->value().size() != 8) {
        status = Status::corruption(fmt::format("malformed index entry of stream {}", stream));
        break;
      }
      event_keys.push_back(log_keys::event_key(load_u64_be(it->value().ToStringView())));
      versions.push_back(key->version);
    }
    if (status.is_ok()) status = from_rocksdb(it->status(), fmt::format("reading the index of stream {}", stream));
  }
  std::vector<std::string> values;
  std::vector<rocksdb::Status> got;
  if (status.is_ok() && !event_keys.empty()) {
    std::vector<rocksdb::Slice> keys(event_keys.begin(), event_keys.end());
    std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), impl.log_family);
    got = impl.db->MultiGet(read, families, keys, &values);
  }
  impl.release_snapshot(snapshot);
  if (!status.is_ok()) return status;

  RecordDecoder& decoder = thread_decoder();
  out->reserve(event_keys.size());
  for (size_t i = 0; i < event_keys.size(); ++i) {
    const uint64_t position = *log_keys::parse_event_key(event_keys[i]);
    if (got[i].IsNotFound()) {
      out->clear();
      return Status::corruption(fmt::format("stream {} version {} points to position {}, which is missing", stream, versions[i], position));
    }
    if (Status read_status = from_rocksdb(got[i], fmt::format("reading position {}", position)); !read_status.is_ok()) {
      out->clear();
      return read_status;
    }
    EventRecord& record = out->emplace_back();
    Status decoded = decoder.decode_at(position, values[i], &record);
    if (decoded.is_ok() && (record.stream != stream || record.version != versions[i])) {
      decoded = Status::corruption(fmt::format("stream {} version {} points to position {}, which holds {} version {}",
                                               stream, versions[i], position, record.stream, record.version));
    }
    if (!decoded.is_ok()) {
      out->clear();
      return decoded;
    }
  }
  return Status::ok();
}

Status LogStore::read_all(uint64_t from_position, size_t limit, std::vector<EventRecord>* out) const {
  assert(out != nullptr);
  out->clear();
  if (Status status = check_limit(limit); !status.is_ok()) return status;
  if (limit == 0) return Status::ok();
  const Impl& impl = *impl_;
  const rocksdb::Slice upper_bound(log_keys::event_keys_end);
  rocksdb::ReadOptions read = point_read_options();
  read.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read, impl.log_family));
  RecordDecoder& decoder = thread_decoder();
  for (it->Seek(log_keys::event_key(std::max<uint64_t>(from_position, 1))); it->Valid() && out->size() < limit; it->Next()) {
    const std::optional<uint64_t> position = log_keys::parse_event_key(it->key().ToStringView());
    Status status = position ? decoder.decode_at(*position, it->value().ToStringView(), &out->emplace_back())
                             : Status::corruption("malformed event key");
    if (!status.is_ok()) {
      out->clear();
      return status;
    }
  }
  return from_rocksdb(it->status(), "reading events");
}

Status LogStore::scan(uint64_t from_position, const std::function<bool(EventRecord&)>& visit) const {
  RecordDecoder& decoder = thread_decoder();
  EventRecord record;
  std::optional<Digest> previous_hash = hash_before(from_position);
  return walk_event_values(*impl_, from_position, [&](uint64_t position, std::string_view value, bool* more) {
    if (Status status = decode_linked(decoder, position, value, previous_hash, &record); !status.is_ok()) return status;
    previous_hash = record.hash;
    *more = visit(record);
    return Status::ok();
  });
}

Status LogStore::scan_stored(uint64_t from_position,
                             const std::function<bool(uint64_t, std::string_view, const Digest&)>& visit) const {
  RecordDecoder& decoder = thread_decoder();
  EventRecord record;  // only for values whose tail is not canonical, and for damage
  std::optional<Digest> previous_hash = hash_before(from_position);
  return walk_event_values(*impl_, from_position, [&](uint64_t position, std::string_view value, bool* more) {
    Digest prev_hash{};
    Digest hash{};
    const bool linked = read_canonical_chain(value, &prev_hash, &hash) && (!previous_hash || prev_hash == *previous_hash) &&
                        decoder.compute_hash(value, prev_hash, position) == hash;
    if (!linked) {
      // Damage, or a layout the tail does not show: decode it all, so that the problem is named as
      // scan() names it (an undecodable value first, then the chain).
      if (Status status = decode_linked(decoder, position, value, previous_hash, &record); !status.is_ok()) return status;
      hash = record.hash;
    }
    previous_hash = hash;
    *more = visit(position, value, hash);
    return Status::ok();
  });
}

Status LogStore::scan_raw(uint64_t from_position, const std::function<bool(uint64_t, std::string_view)>& visit) const {
  const Impl& impl = *impl_;
  const rocksdb::Slice upper_bound(log_keys::event_keys_end);
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(sequential_read_options(&upper_bound), impl.log_family));
  for (it->Seek(log_keys::event_key(std::max<uint64_t>(from_position, 1))); it->Valid(); it->Next()) {
    const std::optional<uint64_t> position = log_keys::parse_event_key(it->key().ToStringView());
    if (!position) return Status::corruption("malformed event key");
    if (!visit(*position, it->value().ToStringView())) return Status::ok();
  }
  return from_rocksdb(it->status(), "scanning raw events");
}

std::optional<IdempotencyRecord> LogStore::find_idempotency(std::string_view actor, std::string_view key) const {
  const Impl& impl = *impl_;
  std::string value;
  const rocksdb::Status got = impl.db->Get(point_read_options(), impl.log_family, log_keys::idempotency_key(actor, key), &value);
  if (!got.ok()) return std::nullopt;
  std::optional<IdempotencyRecord> record = decode_idempotency_value(value);
  if (record && impl.tuning.idempotency_expiry->expired(record->decided_at)) return std::nullopt;
  if (record) {
    record->actor = actor;
    record->key = key;
  }
  return record;
}

void LogStore::expire_idempotency_through(TimeMs decided_at) {
  impl_->tuning.idempotency_expiry->expire_through(decided_at);
}

Status LogStore::compact_idempotency_records() {
  Impl& impl = *impl_;
  if (impl.options.read_only_secondary) return Status::invalid_argument("a secondary instance does not compact");
  const std::string begin(1, log_keys::idempotency_tag);
  const std::string end(1, static_cast<char>(log_keys::idempotency_tag + 1));
  const rocksdb::Slice begin_slice(begin);
  const rocksdb::Slice end_slice(end);
  rocksdb::CompactRangeOptions options;
  // Rewrite the bottom level too: that is where old records are, and only a rewrite filters.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return from_rocksdb(impl.db->CompactRange(options, impl.log_family, &begin_slice, &end_slice),
                      "compacting the idempotency records");
}

}  // namespace tl
