#pragma once
// SHA-256 through OpenSSL EVP, and hex text for digests.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

using Digest = std::array<uint8_t, 32>;

// Incremental SHA-256. Not copyable: it owns an OpenSSL context.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void reset();
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  Digest finish();  // also resets, so the object can be reused

 private:
  struct Context;
  Context* context_;
};

Digest sha256(std::string_view bytes);

std::string to_hex(const uint8_t* data, size_t size);
inline std::string to_hex(const Digest& digest) { return to_hex(digest.data(), digest.size()); }
// Parses exactly 64 hex digits (either case); nullopt otherwise.
std::optional<Digest> digest_from_hex(std::string_view text);
// Parses exactly 64 lower-case hex digits, the only form a stored record holds (engine/FORMAT.md);
// nullopt otherwise. Sixteen digits at a time with SSE2: it runs twice per record read.
std::optional<Digest> lower_hex_digest(std::string_view text);

}  // namespace tl
