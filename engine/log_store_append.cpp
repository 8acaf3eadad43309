// append(): expected versions, encoding, one synced WriteBatch, then the in-memory head.
#include <cassert>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "engine/big_endian.h"
#include "engine/idempotency_codec.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"

namespace tl {
namespace {

Status check_text(std::string_view what, std::string_view text, bool allow_empty) {
  if (text.size() > event_text_bytes_max) {
    return Status::invalid_argument(fmt::format("{} of {} bytes is over the limit of {}", what, text.size(), event_text_bytes_max));
  }
  if (!allow_empty && text.empty()) return Status::invalid_argument(fmt::format("{} is empty", what));
  return Status::ok();
}

Status check_shape(const AppendBatch& batch, JsonObjectChecker& data_checker) {
  size_t events = 0;
  for (const StreamAppend& stream : batch.streams) events += stream.events.size();
  if (events > batch_events_max) {
    return Status::invalid_argument(fmt::format("{} events in one batch; the limit is {}", events, batch_events_max));
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
      return Status::invalid_argument("idempotency key must be 1 to 255 bytes");
    }
    if (record.body.size() > idempotency_body_bytes_max) return Status::invalid_argument("idempotency body is over the limit");
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

bool satisfies(const ExpectedVersion& expected, uint32_t current) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::any: return true;
    case ExpectedVersion::Kind::no_stream: return current == 0;
    case ExpectedVersion::Kind::exact: return current == expected.version;
  }
  return false;
}

}  // namespace

AppendResult LogStore::append(const AppendBatch& batch) {
  Impl& impl = *impl_;
  AppendResult result;
  if (impl.secondary()) {
    result.status = Status::invalid_argument("append() on a read-only secondary instance");
    return result;
  }
  if (result.status = check_shape(batch, impl.data_checker); !result.status.is_ok()) return result;

  // Expected versions first: a conflict anywhere writes nothing. Later appends to the same
  // stream in this batch see the versions the earlier ones will create.
  std::unordered_map<std::string_view, uint32_t> versions;  // stream -> version after this batch
  versions.reserve(batch.streams.size());
  std::vector<uint32_t> first_versions;  // per StreamAppend: the version before its events
  first_versions.reserve(batch.streams.size());
  for (const StreamAppend& stream : batch.streams) {
    auto it = versions.find(stream.stream);
    if (it == versions.end()) {
      uint32_t current = 0;
      if (std::optional<uint32_t> cached = impl.stream_versions.find(stream.stream)) {
        ++impl.stream_cache_hits;
        current = *cached;
      } else {
        ++impl.stream_cache_misses;
        if (result.status = impl.load_stream_version(stream.stream, &current); !result.status.is_ok()) return result;
      }
      it = versions.emplace(stream.stream, current).first;
    }
    const uint32_t current = it->second;
    if (!satisfies(stream.expected, current)) {
      result.status = Status::conflict(fmt::format("stream {}: expected {}, found {}", stream.stream,
                                                   describe(stream.expected),
                                                   current == 0 ? "no stream" : fmt::format("version {}", current)));
      return result;
    }
    if (stream.events.size() > std::numeric_limits<uint32_t>::max() - current) {
      result.status = Status::invalid_argument(fmt::format("stream {}: version would overflow", stream.stream));
      return result;
    }
    first_versions.push_back(current);
    it->second = current + static_cast<uint32_t>(stream.events.size());
  }

  // Encode every event into one WriteBatch, chained from the committed head.
  LogHead head = impl.head();
  rocksdb::WriteBatch write_batch;
  std::string position_be;
  for (size_t s = 0; s < batch.streams.size(); ++s) {
    const StreamAppend& stream = batch.streams[s];
    uint32_t version = first_versions[s];
    for (const NewEvent& event : stream.events) {
      EventRecord record;
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
      position_be.clear();
      append_u64_be(position_be, record.position);
      write_batch.Put(impl.log_family, log_keys::event_key(record.position), impl.value_scratch);
      write_batch.Put(impl.log_family, log_keys::stream_key(record.stream, record.version), position_be);
      head = LogHead{record.position, record.hash};
      result.records.push_back(std::move(record));
    }
  }
  for (const IdempotencyRecord& record : batch.idempotency) {
    write_batch.Put(impl.log_family, log_keys::idempotency_key(record.actor, record.key), encode_idempotency_value(record));
  }
  if (!result.records.empty()) {
    position_be.clear();
    append_u64_be(position_be, head.position);
    write_batch.Put(impl.log_family, log_keys::meta_last_position, position_be);
    write_batch.Put(impl.log_family, log_keys::meta_last_hash,
                    rocksdb::Slice(reinterpret_cast<const char*>(head.hash.data()), head.hash.size()));
  }
  if (write_batch.Count() == 0) return result;

  rocksdb::WriteOptions write_options;
  write_options.sync = impl.options.sync;
  if (const rocksdb::Status written = impl.db->Write(write_options, &write_batch); !written.ok()) {
    result.status = Status::io_error(fmt::format("appending {} events: {}", result.records.size(), written.ToString()));
    result.records.clear();
    return result;
  }

  // Durable: now the head and the cached versions may move.
  std::lock_guard lock(impl.state_mutex);
  assert(head.position >= impl.committed_head.position);
  impl.committed_head = head;
  for (const auto& [stream, version] : versions) impl.stream_versions.put(stream, version);
  return result;
}

Status LogStore::Impl::load_stream_version(std::string_view stream, uint32_t* version) const {
  // Versions are gapless from 1, so a stream without version 1 has no events. One point lookup
  // answers that for the common miss, a brand-new stream, where the backward seek below cost
  // about a sixth of the writer's time in engine_bench (bench/RESULTS.md).
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
  rocksdb::ReadOptions read = point_read_options();
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
