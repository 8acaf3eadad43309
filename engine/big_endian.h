#pragma once
// Fixed-width big-endian integers: the key encoding sorts numerically because of it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tl {

inline void append_u32_be(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

inline void append_u64_be(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

inline void store_u64_be(uint8_t* out, uint64_t value) {
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
}

// `bytes` must hold at least 4 (resp. 8) bytes; callers check the size first.
inline uint32_t load_u32_be(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline uint64_t load_u64_be(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

}  // namespace tl
