// append(): expected versions, encoding, one synced WriteBatch, then the in-memory head.
#include <algorithm>
#include <cassert>
#include <limits>

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "engine/big_endian.h"
#include "engine/idempotency_codec.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"

namespace tl {
namespace {

// A batch touching more streams than this leaves a bucket array too big to clear cheaply.
constexpr size_t batch_versions_buckets_max = 1 << 14;
// The writer's WriteBatch keeps a buffer up to this size between appends (batches of the
// default 2,048 commands take about 1.5 MB).
constexpr size_t write_batch_kept_bytes_max = 4 << 20;

Status check_text(std::string_view what, std::string_view text, bool allow_empty) {
  if (text.size() > event_text_bytes_max) {
    return Status::invalid_argument(fmt::format("{} of {} bytes is over the limit of {}", what, text.size(), event_text_bytes_max));
  }
  if (!allow_empty && text.empty()) return Status::invalid_argument(fmt::format("{} is empty", what));
  if (!is_valid_utf8(text)) return Status::invalid_argument(fmt::format("{} is not valid UTF-8", what));
  return Status::ok();
}

// Sizes, names and `data` of a batch, before anything else; `events` counts its events.
Status check_shape(const AppendBatch& batch, JsonObjectChecker& data_checker, size_t* events) {
  *events = 0;
  for (const StreamAppend& stream : batch.streams) *events += stream.events.size();
  if (*events > batch_events_max) {
    return Status::invalid_argument(fmt::format("{} events in one batch; the limit is {}", *events, batch_events_max));
  }
  if (batch.idempotency.size() > batch_idempotency_records_max) {
    return Status::invalid_argument(fmt::format("{} idempotency records in one batch; the limit is {}",
                                                batch.idempotency.size(), batch_idempotency_records_max));
  }
  for (const StreamAppend& stream : batch.streams) {
    if (Status status = check_text("stream", stream.stream, false); !status.is_ok()) return status;
    if (stream.stream.find('\0') != std::string::npos) return Status::invalid_argument("stream contains a NUL byte");
    for (const NewEvent& event : stream.events) {
      if (Status status = check_text("type", event.type, false); !status.is_ok()) return status;
      if (Status status = check_text("actor", event.actor, true); !status.is_ok()) return status;
      if (Status status = check_text("command_id", event.command_id, true); !status.is_ok()) return status;
      if (Status status = data_checker.check(event.data); !status.is_ok()) {
        return Status::invalid_argument(fmt::format("stream {}, type {}: {}", stream.stream, event.type, status.message()));
      }
    }
  }
  for (const IdempotencyRecord& record : batch.idempotency) {
    if (record.actor.empty() || record.actor.size() > event_text_bytes_max || record.actor.find('\0') != std::string::npos) {
      return Status::invalid_argument("idempotency actor must be 1 to 1024 bytes without NUL");
    }
    if (record.key.empty() || record.key.size() > idempotency_key_bytes_max) {
      return Status::invalid_argument(fmt::format("idempotency key must be 1 to {} bytes", idempotency_key_bytes_max));
    }
    if (record.body.size() > idempotency_body_bytes_max) return Status::invalid_argument("idempotency body is over the limit");
    if (!record.decided_at) return Status::invalid_argument("idempotency record without its decision time");
  }
  return Status::ok();
}

std::string describe(const ExpectedVersion& expected) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::any: return "any version";
    case ExpectedVersion::Kind::no_stream: return "no stream";
    case ExpectedVersion::Kind::exact: return fmt::format("version {}", expected.version);
  }
  return "?";
}

// Room for the batch's WriteBatch, so that it is not regrown while it is filled.
size_t estimate_batch_bytes(const AppendBatch& batch) {
  size_t bytes = 64;
  for (const StreamAppend& stream : batch.streams) {
    for (const NewEvent& event : stream.events) bytes += 2 * stream.stream.size() + event.data.size() + 400;
  }
  return bytes;
}

// The writer's WriteBatch, empty, with room for `bytes`. It is made again only when it must
// grow, or to give back the room a rare large batch took.
rocksdb::WriteBatch& writer_batch_for(LogStore::Impl& impl, size_t bytes) {
  const bool too_small = bytes > impl.write_batch_reserved_bytes;
  const bool too_large = impl.write_batch_reserved_bytes > write_batch_kept_bytes_max && bytes <= write_batch_kept_bytes_max;
  if (too_small || too_large) {
    impl.write_batch = rocksdb::WriteBatch(bytes);
    impl.write_batch_reserved_bytes = bytes;
  } else {
    impl.write_batch.Clear();
  }
  return impl.write_batch;
}

bool satisfies(const ExpectedVersion& expected, uint32_t current) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::any: return true;
    case ExpectedVersion::Kind::no_stream: return current == 0;
    case ExpectedVersion::Kind::exact: return current == expected.version;
  }
  return false;
}

// Checks every stream's expected version (later appends to the same stream in this batch see
// the versions the earlier ones will create) and fills impl.batch_versions (stream -> version
// after the batch) and impl.batch_first_versions (per StreamAppend: the version before it).
Status plan_versions(LogStore::Impl& impl, const AppendBatch& batch) {
  auto& versions = impl.batch_versions;
  if (versions.bucket_count() > batch_versions_buckets_max) {
    versions = {};  // clear() would keep a huge bucket array and cost O(buckets) every time
  } else {
    versions.clear();
  }
  impl.batch_first_versions.clear();
  for (const StreamAppend& stream : batch.streams) {
    auto it = versions.find(stream.stream);
    if (it == versions.end()) {
      StreamVersionCache::Found found = impl.stream_versions.find_for_update(stream.stream);
      if (found.version) {
        ++impl.stream_cache_hits;
      } else {
        ++impl.stream_cache_misses;
        uint32_t loaded = 0;
        const uint32_t likely = stream.expected.kind == ExpectedVersion::Kind::exact ? stream.expected.version : 0;
        if (Status status = impl.load_stream_version(stream.stream, likely, &loaded); !status.is_ok()) return status;
        found.version = loaded;
      }
      it = versions.emplace(stream.stream, LogStore::Impl::PendingVersion{*found.version, found.young_slot}).first;
    }
    const uint32_t current = it->second.version;
    if (!satisfies(stream.expected, current)) {
      return Status::conflict(fmt::format("stream {}: expected {}, found {}", stream.stream, describe(stream.expected),
                                          current == 0 ? "no stream" : fmt::format("version {}", current)));
    }
    if (stream.events.size() > std::numeric_limits<uint32_t>::max() - current) {
      return Status::invalid_argument(fmt::format("stream {}: version would overflow", stream.stream));
    }
    impl.batch_first_versions.push_back(current);
    it->second.version = current + static_cast<uint32_t>(stream.events.size());
  }
  assert(impl.batch_first_versions.size() == batch.streams.size());
  return Status::ok();
}

// Places and encodes every event, chained from `head`, into `write_batch` and `records`;
// returns the new head. The `e` keys go in first, in order; the `s` keys follow sorted, so that
// with the memtable insert hints (engine/rocksdb_tuning.cpp) each insert starts next to the
// previous one.
LogHead encode_batch(LogStore::Impl& impl, const AppendBatch& batch, LogHead head, rocksdb::WriteBatch& write_batch,
                     std::vector<EventRecord>& records) {
  auto& index_entries = impl.index_scratch;
  index_entries.clear();
  for (size_t s = 0; s < batch.streams.size(); ++s) {
    const StreamAppend& stream = batch.streams[s];
    uint32_t version = impl.batch_first_versions[s];
    for (const NewEvent& event : stream.events) {
      EventRecord& record = records.emplace_back();
      record.position = head.position + 1;
      record.stream = stream.stream;
      record.version = ++version;
      record.type = event.type;
      record.schema = event.schema;
      record.at = event.at;
      record.actor = event.actor;
      record.command_id = event.command_id;
      record.data = event.data;
      record.prev_hash = head.hash;
      impl.encoder.encode(record, impl.value_scratch);
      write_batch.Put(impl.log_family, log_keys::event_key(record.position), impl.value_scratch);
      index_entries.emplace_back(log_keys::stream_key(record.stream, record.version), record.position);
      head = LogHead{record.position, record.hash};
    }
  }
  std::sort(index_entries.begin(), index_entries.end());
  std::string position_be;
  for (const auto& [key, position] : index_entries) {
    position_be.clear();
    append_u64_be(position_be, position);
    write_batch.Put(impl.log_family, key, position_be);
  }
  for (const IdempotencyRecord& record : batch.idempotency) {
    write_batch.Put(impl.log_family, log_keys::idempotency_key(record.actor, record.key), encode_idempotency_value(record));
  }
  if (!records.empty()) {
    position_be.clear();
    append_u64_be(position_be, head.position);
    write_batch.Put(impl.log_family, log_keys::meta_last_position, position_be);
    write_batch.Put(impl.log_family, log_keys::meta_last_hash,
                    rocksdb::Slice(reinterpret_cast<const char*>(head.hash.data()), head.hash.size()));
  }
  return head;
}

// After a successful write: the head and the cached versions move.
void publish(LogStore::Impl& impl, const LogHead& head) {
  std::lock_guard lock(impl.state_mutex);
  assert(head.position >= impl.committed_head.position);
  impl.committed_head = head;
  // Young entries are updated in place first: a put() may rotate generations and move them.
  for (const auto& [stream, pending] : impl.batch_versions) {
    if (pending.young_slot != nullptr) *pending.young_slot = pending.version;
  }
  for (const auto& [stream, pending] : impl.batch_versions) {
    if (pending.young_slot == nullptr) impl.stream_versions.put(stream, pending.version);
  }
}

}  // namespace

AppendResult LogStore::append(const AppendBatch& batch) {
  Impl& impl = *impl_;
  AppendResult result;
  if (impl.secondary()) {
    result.status = Status::invalid_argument("append() on a read-only secondary instance");
    return result;
  }
  size_t events = 0;
  if (result.status = check_shape(batch, impl.data_checker, &events); !result.status.is_ok()) return result;
  if (result.status = plan_versions(impl, batch); !result.status.is_ok()) return result;

  rocksdb::WriteBatch& write_batch = writer_batch_for(impl, estimate_batch_bytes(batch));
  result.records.reserve(events);
  const LogHead head = encode_batch(impl, batch, impl.head(), write_batch, result.records);
  if (write_batch.Count() == 0) return result;

  rocksdb::WriteOptions write_options;
  write_options.sync = impl.options.sync;
  if (const rocksdb::Status written = impl.db->Write(write_options, &write_batch); !written.ok()) {
    result.status = Status::io_error(fmt::format("appending {} events: {}", result.records.size(), written.ToString()));
    result.records.clear();
    return result;
  }
  publish(impl, head);
  return result;
}

Status LogStore::Impl::load_stream_version(std::string_view stream, uint32_t likely, uint32_t* version) const {
  // Versions are gapless from 1: the stream is at `likely` when that key exists and the next does
  // not. Both keys in one MultiGet (side by side, usually in one block) instead of the backward
  // seek below (an iterator over every memtable and level), which took a third of the writer's
  // time when capture's bookings had left the cache (engine_bench). A wrong guess costs the
  // MultiGet and then the seek, which names the real version.
  if (likely >= 1 && likely < std::numeric_limits<uint32_t>::max()) {
    const std::string keys[2] = {log_keys::stream_key(stream, likely), log_keys::stream_key(stream, likely + 1)};
    const rocksdb::Slice key_slices[2] = {keys[0], keys[1]};
    rocksdb::PinnableSlice values[2];
    rocksdb::Status statuses[2];
    db->MultiGet(point_read_options(), log_family, 2, key_slices, values, statuses, /*sorted_input=*/true);
    for (const rocksdb::Status& got : statuses) {
      if (!got.ok() && !got.IsNotFound()) return from_rocksdb(got, fmt::format("reading the version of stream {}", stream));
    }
    if (statuses[0].ok() && statuses[1].IsNotFound()) {
      *version = likely;
      return Status::ok();
    }
  }
  // A stream without version 1 has no events. One point look-up answers that for the common miss,
  // a brand-new stream, where the backward seek cost about a sixth of the writer's time.
  {
    std::string ignored;
    const rocksdb::Status first =
        db->Get(point_read_options(), log_family, log_keys::stream_key(stream, 1), &ignored);
    if (first.IsNotFound()) {
      *version = 0;
      return Status::ok();
    }
    if (!first.ok()) return from_rocksdb(first, fmt::format("reading the version of stream {}", stream));
  }
  const std::string lower = log_keys::stream_key_prefix(stream);
  std::string upper = lower;
  upper.back() = '\1';  // the first key past every version of this stream
  const rocksdb::Slice lower_bound(lower);
  const rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions read;
  // A prefix seek: the stream's prefix is in the Bloom filters (engine/rocksdb_tuning.cpp), so
  // a stream with no events (a new booking) is answered without searching memtables or files.
  read.total_order_seek = false;
  read.prefix_same_as_start = true;
  read.iterate_lower_bound = &lower_bound;
  read.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, log_family));
  it->SeekForPrev(log_keys::stream_key(stream, std::numeric_limits<uint32_t>::max()));
  *version = 0;
  if (!it->Valid()) return from_rocksdb(it->status(), fmt::format("reading the version of stream {}", stream));
  const std::optional<log_keys::StreamKey> key = log_keys::parse_stream_key(it->key().ToStringView());
  if (!key || key->stream != stream) return Status::corruption(fmt::format("malformed index key of stream {}", stream));
  *version = key->version;
  return Status::ok();
}

}  // namespace tl
