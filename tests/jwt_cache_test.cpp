// The per-thread cache of verified tokens (api/jwt_cache.h): the same answers as verify_jwt,
// from memory for tokens that verified before.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <limits>
#include <string>
#include <vector>

#include "api/jwt.h"
#include "api/jwt_cache.h"

using namespace tl;

namespace {

constexpr std::string_view secret = "cache-test-secret-0123456789abcdef";
constexpr std::string_view other_secret = "another-secret-0123456789abcdefgh";
constexpr int64_t now = 1'800'000'000;

std::string token_for(std::string_view sub, JwtRole role, int64_t exp, std::string_view key = secret) {
  return sign_jwt(JwtClaims{std::string(sub), role, exp}, key);
}

}  // namespace

TEST_CASE("ACachedTokenGetsTheClaimsItVerifiedWith") {
  VerifiedTokenCache cache;
  const std::string token = token_for("s1", JwtRole::student, now + 3600);
  const JwtResult first = cache.verify(token, secret, now);
  REQUIRE(first.ok());
  CHECK(cache.hits() == 0);
  const JwtResult second = cache.verify(token, secret, now + 1);
  REQUIRE(second.ok());
  CHECK(cache.hits() == 1);
  CHECK(second.claims() == first.claims());
  CHECK(second.claims() == verify_jwt(token, secret, now + 1).claims());
}

TEST_CASE("ACachedTokenStillExpiresAtItsExp") {
  VerifiedTokenCache cache;
  const std::string token = token_for("t1", JwtRole::tutor, now + 10);
  REQUIRE(cache.verify(token, secret, now).ok());
  CHECK(cache.verify(token, secret, now + 9).ok());
  const JwtResult expired = cache.verify(token, secret, now + 10);
  REQUIRE_FALSE(expired.ok());
  CHECK(cache.hits() == 2);
  const JwtResult direct = verify_jwt(token, secret, now + 10);
  CHECK(expired.failure() == direct.failure());
  CHECK(expired.message() == direct.message());
}

TEST_CASE("ATokenCachedUnderOneSecretIsNotAcceptedUnderAnother") {
  VerifiedTokenCache cache;
  const std::string token = token_for("a1", JwtRole::admin, now + 3600);
  REQUIRE(cache.verify(token, secret, now).ok());
  const JwtResult refused = cache.verify(token, other_secret, now);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure() == JwtFailure::bad_signature);
  // And back: the entries of the first secret were dropped, so it is verified afresh.
  const size_t hits = cache.hits();
  CHECK(cache.verify(token, secret, now).ok());
  CHECK(cache.hits() == hits);
}

TEST_CASE("AForgedVariantOfACachedTokenIsVerifiedAndRefused") {
  VerifiedTokenCache cache;
  const std::string token = token_for("s2", JwtRole::student, now + 3600);
  REQUIRE(cache.verify(token, secret, now).ok());
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';  // another signature
  CHECK_FALSE(cache.verify(forged, secret, now).ok());
  const std::string other_claims = token_for("s3", JwtRole::student, now + 3600, other_secret);
  CHECK_FALSE(cache.verify(other_claims, secret, now).ok());
  CHECK(cache.verify(token, secret, now).ok());
}

TEST_CASE("RefusedTokensAreNeverCached") {
  VerifiedTokenCache cache;
  const std::string expired = token_for("s4", JwtRole::student, now - 1);
  CHECK_FALSE(cache.verify(expired, secret, now).ok());
  CHECK_FALSE(cache.verify(expired, secret, now).ok());
  CHECK(cache.hits() == 0);
}

TEST_CASE("ManyTokensGetTheirOwnClaimsWhateverTheyEvict") {
  VerifiedTokenCache cache;
  std::vector<std::string> tokens;
  for (int i = 0; i < 3 * static_cast<int>(verified_tokens_cached_max); ++i) {
    tokens.push_back(token_for(fmt::format("u{}", i), JwtRole::tutor, now + 1000 + i));
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const JwtResult result = cache.verify(tokens[i], secret, now);
      REQUIRE(result.ok());
      CHECK(result.claims().sub == fmt::format("u{}", i));
      CHECK(result.claims().exp == now + 1000 + static_cast<int64_t>(i));
    }
  }
  CHECK(cache.hits() > 0);
}

TEST_CASE("TheLongestTokenThatCanVerifyFitsTheCache") {
  // The size limit bounds the cache's memory; it must not keep any real token out of it.
  VerifiedTokenCache cache;
  const std::string token =
      token_for(std::string(jwt_subject_bytes_max, 'x'), JwtRole::student, std::numeric_limits<int64_t>::max());
  CHECK(token.size() <= cached_token_bytes_max);
  REQUIRE(cache.verify(token, secret, now).ok());
  REQUIRE(cache.verify(token, secret, now).ok());
  CHECK(cache.hits() == 1);
}
