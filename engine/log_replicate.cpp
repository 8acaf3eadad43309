// append_replicated(): a read replica appends the primary's records after verifying their chain.
#include <cassert>

#include <fmt/format.h>

#include "engine/log_store_impl.h"

namespace tl {

AppendResult LogStore::append_replicated(const std::vector<std::string>& stored_values) {
  AppendResult result;
  if (stored_values.size() > batch_events_max) {
    result.status = Status::invalid_argument(fmt::format("{} records in one batch; the limit is {}", stored_values.size(),
                                                         batch_events_max));
    return result;
  }
  thread_local RecordDecoder decoder;
  LogHead running = head();
  AppendBatch batch;
  std::vector<Digest> received_hashes;
  received_hashes.reserve(stored_values.size());
  EventRecord record;
  for (const std::string& stored : stored_values) {
    const uint64_t expected_position = running.position + 1;
    bool canonical = false;
    if (Status decoded = decoder.decode(stored, &record, &canonical); !decoded.is_ok()) {
      result.status = Status::corruption(fmt::format("position {}: {}", expected_position, decoded.message()));
      return result;
    }
    auto fail = [&](std::string_view what) {
      result.status = Status::corruption(fmt::format("position {}: {}", expected_position, what));
      return result;
    };
    if (record.position != expected_position) return fail(fmt::format("received position {}", record.position));
    if (record.prev_hash != running.hash) return fail("prev_hash does not link to the previous event");
    if (decoder.compute_hash(stored, record.prev_hash, record.position) != record.hash) return fail("hash mismatch");
    if (!canonical) return fail("not the canonical encoding");
    if (record.version == 0) return fail("stream version 0");
    StreamAppend& stream = batch.streams.emplace_back();
    stream.stream = record.stream;
    stream.expected = record.version == 1 ? ExpectedVersion::no_stream() : ExpectedVersion::exact(record.version - 1);
    stream.events.push_back(NewEvent{record.type, record.schema, record.at, record.actor, record.command_id, record.data});
    received_hashes.push_back(record.hash);
    running = LogHead{record.position, record.hash};
  }
  result = append(batch);
  if (result.status.is_conflict()) {
    result.status = Status::corruption("stream versions out of order: " + result.status.message());
  }
  if (!result.status.is_ok()) return result;
  // The encoding is deterministic: the same fields after the same head give the same bytes.
  for (size_t i = 0; i < result.records.size(); ++i) assert(result.records[i].hash == received_hashes[i]);
  return result;
}

}  // namespace tl
