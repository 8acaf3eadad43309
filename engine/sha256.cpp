#include "engine/sha256.h"

#include <array>
#include <cassert>
#include <stdexcept>

#include <openssl/evp.h>

namespace tl {
namespace {

// Fetched once: with OpenSSL 3, passing EVP_sha256() makes every init fetch the implementation
// again, which cost about 0.35 µs per hash of a 500-byte event (more than the hashing itself).
const EVP_MD* sha256_method() {
  static EVP_MD* const method = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return method != nullptr ? method : EVP_sha256();
}

// Digit values of lower-case hex; 0xFF marks every other byte.
constexpr std::array<uint8_t, 256> lower_hex_values = [] {
  std::array<uint8_t, 256> values{};
  values.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<uint8_t>(c - 'a' + 10);
  return values;
}();

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

std::optional<Digest> lower_hex_digest(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  Digest digest{};
  uint8_t invalid = 0;
  for (size_t i = 0; i < digest.size(); ++i) {
    const uint8_t high = lower_hex_values[static_cast<uint8_t>(text[2 * i])];
    const uint8_t low = lower_hex_values[static_cast<uint8_t>(text[2 * i + 1])];
    invalid |= high | low;
    digest[i] = static_cast<uint8_t>(high << 4 | (low & 0xF));
  }
  if (invalid & 0xF0) return std::nullopt;
  return digest;
}

}  // namespace tl
