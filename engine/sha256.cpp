#include "engine/sha256.h"

#include <array>
#include <cassert>
#include <stdexcept>

#include <openssl/evp.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tl {
namespace {

// Fetched once: with OpenSSL 3, passing EVP_sha256() makes every init fetch the implementation
// again, which cost about 0.35 µs per hash of a 500-byte event (more than the hashing itself).
const EVP_MD* sha256_method() {
  static EVP_MD* const method = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return method != nullptr ? method : EVP_sha256();
}

#if !defined(__SSE2__)
// Digit values of lower-case hex; 0xFF marks every other byte.
constexpr std::array<uint8_t, 256> lower_hex_values = [] {
  std::array<uint8_t, 256> values{};
  values.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<uint8_t>(c - 'a' + 10);
  return values;
}();
#endif

}  // namespace

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : context_(new Context) {
  context_->md = EVP_MD_CTX_new();
  if (context_->md == nullptr) throw std::bad_alloc();
  reset();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(context_->md);
  delete context_;
}

void Sha256::reset() {
  const int ok = EVP_DigestInit_ex2(context_->md, sha256_method(), nullptr);
  if (ok != 1) throw std::runtime_error("EVP_DigestInit_ex2(sha256) failed");
}

void Sha256::update(const void* data, size_t size) {
  const int ok = EVP_DigestUpdate(context_->md, data, size);
  assert(ok == 1);
  (void)ok;
}

Digest Sha256::finish() {
  Digest digest{};
  unsigned int size = 0;
  const int ok = EVP_DigestFinal_ex(context_->md, digest.data(), &size);
  assert(ok == 1 && size == digest.size());
  (void)ok;
  reset();
  return digest;
}

Digest sha256(std::string_view bytes) {
  Digest digest{};
  unsigned int size = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, sha256_method(), nullptr);
  assert(ok == 1 && size == digest.size());
  (void)ok;
  return digest;
}

std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string text(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    text[2 * i] = hex_digits[data[i] >> 4];
    text[2 * i + 1] = hex_digits[data[i] & 0xF];
  }
  return text;
}

std::optional<Digest> digest_from_hex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = nibble(text[2 * i]);
    const int low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

#if defined(__SSE2__)
namespace {

// Sixteen lower-case hex digits into eight bytes; false when any is not one. Replay parses two
// digests per record on each of its threads, and a table lookup per digit was 6% of a rebuild.
bool sixteen_lower_hex_digits(const char* in, uint8_t* out) {
  const __m128i text = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  // Signed compares: bytes from 0x80 up are negative, so below '0' and outside both ranges.
  const __m128i digit =
      _mm_and_si128(_mm_cmpgt_epi8(text, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(text, _mm_set1_epi8('9' + 1)));
  const __m128i letter =
      _mm_and_si128(_mm_cmpgt_epi8(text, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(text, _mm_set1_epi8('f' + 1)));
  if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xFFFF) return false;
  // 'a' - '0' is 49 and stands for 10: letters take 39 more off.
  const __m128i nibbles =
      _mm_sub_epi8(_mm_sub_epi8(text, _mm_set1_epi8('0')), _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
  // Each 16-bit lane holds a digit pair, the first in its low byte: first << 4 | second.
  const __m128i high = _mm_slli_epi16(_mm_and_si128(nibbles, _mm_set1_epi16(0x00FF)), 4);
  const __m128i low = _mm_srli_epi16(nibbles, 8);
  const __m128i bytes = _mm_packus_epi16(_mm_or_si128(high, low), _mm_setzero_si128());
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes);
  return true;
}

}  // namespace
#endif

std::optional<Digest> lower_hex_digest(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  Digest digest{};
#if defined(__SSE2__)
  for (size_t i = 0; i < 4; ++i) {
    if (!sixteen_lower_hex_digits(text.data() + 16 * i, digest.data() + 8 * i)) return std::nullopt;
  }
#else
  uint8_t invalid = 0;
  for (size_t i = 0; i < digest.size(); ++i) {
    const uint8_t high = lower_hex_values[static_cast<uint8_t>(text[2 * i])];
    const uint8_t low = lower_hex_values[static_cast<uint8_t>(text[2 * i + 1])];
    invalid |= high | low;
    digest[i] = static_cast<uint8_t>(high << 4 | (low & 0xF));
  }
  if (invalid & 0xF0) return std::nullopt;
#endif
  return digest;
}

}  // namespace tl
