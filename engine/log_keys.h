#pragma once
// The key layout of the log in RocksDB's default column family (engine/FORMAT.md):
//   e + position (u64 BE)                    -> stored event value
//   s + stream + \0 + version (u32 BE)       -> position (u64 BE)
//   i + actor + \0 + idempotency key         -> IdempotencyRecord (engine/idempotency_codec.h)
//   m + name                                 -> metadata
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/big_endian.h"

namespace tl::log_keys {

constexpr char event_tag = 'e';
constexpr char stream_tag = 's';
constexpr char idempotency_tag = 'i';
constexpr char meta_tag = 'm';

constexpr size_t event_key_bytes = 1 + 8;
constexpr size_t stream_key_suffix_bytes = 1 + 4;  // \0 + version

// Every `e` key sorts below this one, and every other tag sorts at or above it.
constexpr std::string_view event_keys_end = "f";

constexpr std::string_view meta_schema_version = "mschema_version";
constexpr std::string_view meta_last_position = "mlast_position";
constexpr std::string_view meta_last_hash = "mlast_hash";

inline std::string event_key(uint64_t position) {
  std::string key;
  key.reserve(event_key_bytes);
  key.push_back(event_tag);
  append_u64_be(key, position);
  return key;
}

inline std::optional<uint64_t> parse_event_key(std::string_view key) {
  if (key.size() != event_key_bytes || key[0] != event_tag) return std::nullopt;
  return load_u64_be(key.substr(1));
}

// `s` + stream + \0: every version of one stream, and nothing else, starts with it.
inline std::string stream_key_prefix(std::string_view stream) {
  std::string key;
  key.reserve(1 + stream.size() + 1 + 4);
  key.push_back(stream_tag);
  key.append(stream);
  key.push_back('\0');
  return key;
}

inline std::string stream_key(std::string_view stream, uint32_t version) {
  std::string key = stream_key_prefix(stream);
  append_u32_be(key, version);
  return key;
}

struct StreamKey {
  std::string_view stream;  // points into the parsed key
  uint32_t version = 0;
};

inline std::optional<StreamKey> parse_stream_key(std::string_view key) {
  if (key.size() < 1 + stream_key_suffix_bytes || key[0] != stream_tag) return std::nullopt;
  const size_t stream_end = key.size() - stream_key_suffix_bytes;
  if (key[stream_end] != '\0') return std::nullopt;
  const std::string_view stream = key.substr(1, stream_end - 1);
  if (stream.empty() || stream.find('\0') != std::string_view::npos) return std::nullopt;
  return StreamKey{stream, load_u32_be(key.substr(stream_end + 1))};
}

inline std::string idempotency_key(std::string_view actor, std::string_view key) {
  std::string out;
  out.reserve(1 + actor.size() + 1 + key.size());
  out.push_back(idempotency_tag);
  out.append(actor);
  out.push_back('\0');
  out.append(key);
  return out;
}

}  // namespace tl::log_keys
