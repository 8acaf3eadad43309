#include "engine/checkpoint_codec.h"

#include <cassert>
#include <cstring>

#include "engine/big_endian.h"

namespace tl {
namespace {

constexpr std::string_view header_magic = "TLCP";
constexpr uint8_t header_format = 1;

void append_digest(std::string& out, const Digest& digest) {
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
}

Digest load_digest(std::string_view bytes) {
  Digest digest{};
  std::memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

}  // namespace

std::string encode_checkpoint_header(const CheckpointHeader& header) {
  std::string out;
  out.reserve(checkpoint_header_bytes);
  out.append(header_magic);
  out.push_back(static_cast<char>(header_format));
  append_u64_be(out, header.generation);
  append_u64_be(out, header.position);
  append_digest(out, header.log_hash);
  append_digest(out, header.state_hash);
  append_u64_be(out, header.payload_bytes);
  append_u32_be(out, header.chunk_bytes);
  append_u32_be(out, header.chunk_count);
  append_digest(out, header.payload_sha256);
  assert(out.size() == checkpoint_header_bytes);
  return out;
}

std::optional<CheckpointHeader> decode_checkpoint_header(std::string_view bytes) {
  if (bytes.size() != checkpoint_header_bytes || bytes.substr(0, 4) != header_magic) return std::nullopt;
  if (static_cast<uint8_t>(bytes[4]) != header_format) return std::nullopt;
  std::string_view rest = bytes.substr(5);
  auto take = [&rest](size_t size) {
    const std::string_view field = rest.substr(0, size);
    rest.remove_prefix(size);
    return field;
  };
  CheckpointHeader header;
  header.generation = load_u64_be(take(8));
  header.position = load_u64_be(take(8));
  header.log_hash = load_digest(take(32));
  header.state_hash = load_digest(take(32));
  header.payload_bytes = load_u64_be(take(8));
  header.chunk_bytes = load_u32_be(take(4));
  header.chunk_count = load_u32_be(take(4));
  header.payload_sha256 = load_digest(take(32));
  assert(rest.empty());
  // The sizes must add up: chunk_count = ceil(payload_bytes / chunk_bytes).
  if (header.chunk_bytes == 0) return std::nullopt;
  const uint64_t chunks_needed = (header.payload_bytes + header.chunk_bytes - 1) / header.chunk_bytes;
  if (chunks_needed != header.chunk_count) return std::nullopt;
  return header;
}

std::string checkpoint_chunk_key(uint64_t generation, uint32_t index) {
  std::string key;
  key.reserve(1 + 8 + 4);
  key.push_back('c');
  append_u64_be(key, generation);
  append_u32_be(key, index);
  return key;
}

}  // namespace tl
