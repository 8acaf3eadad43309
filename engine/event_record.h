#pragma once
// One event as the log stores it: the envelope of DESIGN section 2 around an opaque, already
// canonical JSON `data` object. The log never interprets `data`; the domain codec does.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sha256.h"
#include "projections/time.h"

namespace tl {

struct EventRecord {
  uint64_t position = 0;  // gapless, from 1
  std::string stream;     // "booking-<id>", "tutor-<id>", ...
  uint32_t version = 0;   // per stream, from 1
  std::string type;       // "BookingRequested", ...
  int32_t schema = 1;
  TimeMs at = 0;          // the command's `now`, ms since epoch
  std::string actor;      // "student:<id>", "tutor:<id>", "admin:<id>", "system"
  std::string command_id;
  std::string data;       // canonical JSON object text, e.g. {"booking_id":"bk_1"}
  Digest prev_hash{};     // hash of position - 1; all zeros before position 1
  Digest hash{};          // SHA-256(prev_hash || position (u64 BE) || canonical bytes)
};

// An event before the log has placed it: the log assigns position, version and hashes.
struct NewEvent {
  std::string type;
  int32_t schema = 1;
  TimeMs at = 0;
  std::string actor;
  std::string command_id;
  std::string data;
};

struct ExpectedVersion {
  enum class Kind { any, no_stream, exact };
  Kind kind = Kind::any;
  uint32_t version = 0;  // meaningful for `exact` only
  static ExpectedVersion any() { return {Kind::any, 0}; }
  static ExpectedVersion no_stream() { return {Kind::no_stream, 0}; }
  static ExpectedVersion exact(uint32_t v) { return {Kind::exact, v}; }
};

// Events for one stream, appended after the stream's version is checked against `expected`.
struct StreamAppend {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
};

// A stored answer to a request that carried an Idempotency-Key (DESIGN section 2, key `i`).
struct IdempotencyRecord {
  std::string actor;
  std::string key;
  Digest request_hash{};  // SHA-256 over the request (method, path, body)
  int32_t status = 0;     // HTTP status of the stored answer
  std::string body;       // the answer's body, byte for byte
  uint64_t position = 0;  // log head when the answer was decided
  // When it was decided (the command's `now`): the record expires a keep
  // time later (engine/FORMAT.md). nullopt for records of format 1, which did not store it and
  // never expire.
  std::optional<TimeMs> decided_at;
};

// Everything one group commit writes: one RocksDB WriteBatch, synced, all or nothing.
struct AppendBatch {
  std::vector<StreamAppend> streams;
  std::vector<IdempotencyRecord> idempotency;
};

struct LogHead {
  uint64_t position = 0;
  Digest hash{};
};

}  // namespace tl
