#include "api/base64.h"

#include <array>
#include <cassert>
#include <cstdint>

namespace tl::base64 {
namespace {

constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view standard_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t not_a_digit = 0xFF;

using DecodeTable = std::array<uint8_t, 256>;

constexpr DecodeTable make_decode_table(std::string_view alphabet) {
  DecodeTable table{};
  for (auto& entry : table) entry = not_a_digit;
  for (size_t i = 0; i < alphabet.size(); ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  return table;
}

constexpr DecodeTable url_table = make_decode_table(url_alphabet);
constexpr DecodeTable standard_table = make_decode_table(standard_alphabet);

std::string encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  assert(alphabet.size() == 64);
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                           static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 |
                           static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 2]));
    text += alphabet[group >> 18 & 0x3F];
    text += alphabet[group >> 12 & 0x3F];
    text += alphabet[group >> 6 & 0x3F];
    text += alphabet[group & 0x3F];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    text += alphabet[group >> 18 & 0x3F];
    text += alphabet[group >> 12 & 0x3F];
    if (rest == 2) text += alphabet[group >> 6 & 0x3F];
    if (pad) text.append(3 - rest, '=');
  }
  return text;
}

// Decodes unpadded digits; the caller has already removed any padding.
std::optional<std::string> decode_digits(std::string_view digits, const DecodeTable& table) {
  if (digits.size() % 4 == 1) return std::nullopt;  // 6 bits cannot make a byte
  std::string bytes;
  bytes.reserve(digits.size() / 4 * 3 + 2);
  uint32_t accumulator = 0;
  int bits = 0;
  for (const char c : digits) {
    const uint8_t value = table[static_cast<uint8_t>(c)];
    if (value == not_a_digit) return std::nullopt;
    accumulator = (accumulator << 6 | value) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>(accumulator >> bits & 0xFF);
    }
  }
  // Left-over bits (2 or 4) must be zero, or two spellings would decode to the same bytes.
  if ((accumulator & ((1u << bits) - 1)) != 0) return std::nullopt;
  assert(bytes.size() == digits.size() * 3 / 4);
  return bytes;
}

}  // namespace

std::string encode_url(std::string_view bytes) { return encode(bytes, url_alphabet, false); }

std::optional<std::string> decode_url(std::string_view text) { return decode_digits(text, url_table); }

std::string encode_standard(std::string_view bytes) { return encode(bytes, standard_alphabet, true); }

std::optional<std::string> decode_standard(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::string_view digits = text.substr(0, text.size() - padding);
  // After removing the padding, what is left must need exactly that much padding.
  if (padding > 0 && digits.size() % 4 != 4 - padding) return std::nullopt;
  return decode_digits(digits, standard_table);
}

}  // namespace tl::base64
