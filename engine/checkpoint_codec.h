#pragma once
// Checkpoint layout in the `projections` column family (engine/FORMAT.md):
//   h                                      -> header (below)
//   c + generation (u64 BE) + index (u32 BE) -> chunk `index` of that generation's payload
// A new checkpoint writes its chunks under generation + 1, then one WriteBatch puts the new
// header and deletes every older chunk, so a reader sees the old checkpoint or the new one.
//
//   header: "TLCP" | format u8 = 1 | generation u64 | position u64 | log_hash[32] |
//           state_hash[32] | payload_bytes u64 | chunk_bytes u32 | chunk_count u32 |
//           payload_sha256[32]            (integers big-endian; 133 bytes)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/sha256.h"

namespace tl {

struct CheckpointHeader {
  uint64_t generation = 0;
  uint64_t position = 0;     // the log position the payload reflects
  Digest log_hash{};         // the log's hash at `position`: ties the checkpoint to this log
  Digest state_hash{};
  uint64_t payload_bytes = 0;
  uint32_t chunk_bytes = 0;
  uint32_t chunk_count = 0;
  Digest payload_sha256{};
};

constexpr std::string_view checkpoint_header_key = "h";
constexpr size_t checkpoint_header_bytes = 4 + 1 + 8 + 8 + 32 + 32 + 8 + 4 + 4 + 32;

std::string encode_checkpoint_header(const CheckpointHeader& header);
// nullopt when the bytes are not a header of this format (or its sizes do not add up).
std::optional<CheckpointHeader> decode_checkpoint_header(std::string_view bytes);

std::string checkpoint_chunk_key(uint64_t generation, uint32_t index);
// Every chunk key of generations below `generation` sorts below this key.
inline std::string checkpoint_chunk_key_floor(uint64_t generation) { return checkpoint_chunk_key(generation, 0); }

}  // namespace tl
