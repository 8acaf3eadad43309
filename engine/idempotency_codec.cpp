#include "engine/idempotency_codec.h"

#include <cassert>
#include <cstring>

#include "engine/big_endian.h"

namespace tl {

std::string encode_idempotency_value(const IdempotencyRecord& record) {
  assert(record.body.size() <= idempotency_body_bytes_max);
  assert(record.decided_at.has_value());
  std::string value;
  value.reserve(idempotency_header_bytes + record.body.size());
  value.push_back(static_cast<char>(idempotency_format));
  value.append(reinterpret_cast<const char*>(record.request_hash.data()), record.request_hash.size());
  append_u32_be(value, static_cast<uint32_t>(record.status));
  append_u64_be(value, record.position);
  append_u64_be(value, static_cast<uint64_t>(record.decided_at.value_or(0)));
  value.append(record.body);
  assert(value.size() == idempotency_header_bytes + record.body.size());
  return value;
}

std::optional<IdempotencyRecord> decode_idempotency_value(std::string_view value) {
  if (value.empty()) return std::nullopt;
  const auto format = static_cast<uint8_t>(value[0]);
  size_t header_bytes = 0;
  if (format == idempotency_format) {
    header_bytes = idempotency_header_bytes;
  } else if (format == idempotency_format_without_time) {
    header_bytes = idempotency_header_bytes_without_time;
  } else {
    return std::nullopt;
  }
  if (value.size() < header_bytes) return std::nullopt;
  IdempotencyRecord record;
  std::memcpy(record.request_hash.data(), value.data() + 1, record.request_hash.size());
  record.status = static_cast<int32_t>(load_u32_be(value.substr(33)));
  record.position = load_u64_be(value.substr(37));
  if (format == idempotency_format) record.decided_at = static_cast<TimeMs>(load_u64_be(value.substr(45)));
  record.body.assign(value.substr(header_bytes));
  return record;
}

std::optional<TimeMs> idempotency_decided_at(std::string_view value) {
  if (value.size() < idempotency_header_bytes || static_cast<uint8_t>(value[0]) != idempotency_format) {
    return std::nullopt;
  }
  return static_cast<TimeMs>(load_u64_be(value.substr(45)));
}

}  // namespace tl
