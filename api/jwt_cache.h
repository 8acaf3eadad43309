#pragma once
// Remembers the tokens that verified, so that the HMAC, the three base64 decodes and the two JSON
// parses of verify_jwt run once per token instead of once per request: an app sends the same
// token with every request for the token's lifetime. A hit still checks the expiry against the
// time of the request, so the answer is always exactly what verify_jwt would give.
//
// One cache per thread (no locks): direct-mapped, `verified_tokens_cached_max` entries, tokens
// longer than `cached_token_bytes_max` never cached, so it holds at most 128 KiB of tokens. A
// token is found by its full bytes, compared in constant time; the secret the entries were
// verified under is remembered, and another secret empties the cache.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/jwt.h"

namespace tl {

constexpr size_t verified_tokens_cached_max = 256;
constexpr size_t cached_token_bytes_max = 512;

class VerifiedTokenCache {
 public:
  // verify_jwt(token, secret, now_unix_s), from memory when `token` was accepted before.
  JwtResult verify(std::string_view token, std::string_view secret, int64_t now_unix_s);

  size_t hits() const { return hits_; }

 private:
  struct Entry {
    std::string token;  // empty: unused
    JwtClaims claims;
  };

  Entry& slot_of(std::string_view token);

  std::string secret_;
  std::array<Entry, verified_tokens_cached_max> entries_;
  size_t hits_ = 0;
};

// The calling thread's cache.
VerifiedTokenCache& thread_token_cache();

}  // namespace tl
