#include "api/jwt_cache.h"

#include <functional>

#include "api/hmac_sha256.h"

namespace tl {

VerifiedTokenCache::Entry& VerifiedTokenCache::slot_of(std::string_view token) {
  return entries_[std::hash<std::string_view>{}(token) % entries_.size()];
}

JwtResult VerifiedTokenCache::verify(std::string_view token, std::string_view secret, int64_t now_unix_s) {
  if (secret.size() != secret_.size() || !constant_time_equal(secret.data(), secret_.data(), secret.size())) {
    for (Entry& entry : entries_) entry.token.clear();
    secret_.assign(secret);
  }
  Entry& entry = slot_of(token);
  if (!entry.token.empty() && entry.token.size() == token.size() &&
      constant_time_equal(entry.token.data(), token.data(), token.size())) {
    ++hits_;
    // verify_jwt checks the expiry last, after everything a cached token already passed.
    if (entry.claims.exp <= now_unix_s) return JwtResult::rejected(JwtFailure::expired, "token has expired");
    return JwtResult::accepted(entry.claims);
  }
  JwtResult result = verify_jwt(token, secret, now_unix_s);
  if (result.ok() && token.size() <= cached_token_bytes_max) {
    entry.token.assign(token);
    entry.claims = result.claims();
  }
  return result;
}

VerifiedTokenCache& thread_token_cache() {
  thread_local VerifiedTokenCache cache;
  return cache;
}

}  // namespace tl
