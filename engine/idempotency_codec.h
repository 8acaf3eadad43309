#pragma once
// The value of an `i` key (engine/FORMAT.md): actor and key live in the RocksDB key, the rest here.
//
//   offset  bytes  field
//   0       1      format, 2 (1: written before records expired; no decided_at)
//   1       32     request_hash (raw SHA-256)
//   33      4      status (int32 as u32 BE)
//   37      8      position (u64 BE)
//   45      8      decided_at, ms since the epoch (int64 as u64 BE)   (format 2 only)
//   53      rest   body, byte for byte                                  (45 in format 1)
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/event_record.h"

namespace tl {

constexpr uint8_t idempotency_format = 2;
constexpr uint8_t idempotency_format_without_time = 1;  // still read; its records never expire
constexpr size_t idempotency_header_bytes = 1 + 32 + 4 + 8 + 8;
constexpr size_t idempotency_header_bytes_without_time = 1 + 32 + 4 + 8;
constexpr size_t idempotency_key_chars_max = 255;  // API.md: Idempotency-Key is 1-255 chars
constexpr size_t idempotency_key_bytes_max = 4 * idempotency_key_chars_max;  // UTF-8: up to 4 bytes a char
constexpr size_t idempotency_body_bytes_max = 1 << 20;   // a stored answer body

// Writes format 2; the record must carry decided_at.
std::string encode_idempotency_value(const IdempotencyRecord& record);
// Fills every field but actor and key; nullopt when the value is malformed.
std::optional<IdempotencyRecord> decode_idempotency_value(std::string_view value);
// decided_at alone, without copying the body (the compaction filter reads every `i` value):
// nullopt for a format 1 value or a malformed one.
std::optional<TimeMs> idempotency_decided_at(std::string_view value);

}  // namespace tl
