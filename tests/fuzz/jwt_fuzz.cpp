// The JWT verifier (api/jwt.h) on arbitrary tokens, and sign/verify round trips on claims made
// from the input. Properties: an accepted token carries valid claims, unexpired, that sign to a
// token which verifies to the same claims; any valid claims survive sign then verify, and the
// token is refused with another secret.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/jwt.h"
#include "fuzz_check.h"

namespace {

constexpr std::string_view secret = "fuzz-secret";
constexpr int64_t now_unix_s = 1795514400;  // the seed tokens are valid around this time

void verify_arbitrary(std::string_view token) {
  const tl::JwtResult result = tl::verify_jwt(token, secret, now_unix_s);
  if (!result.ok()) {
    (void)tl::jwt_failure_name(result.failure());
    return;
  }
  const tl::JwtClaims& claims = result.claims();
  FUZZ_CHECK(tl::is_valid_jwt_subject(claims.sub));
  FUZZ_CHECK(claims.exp > now_unix_s);
  const tl::JwtResult again = tl::verify_jwt(tl::sign_jwt(claims, secret), secret, now_unix_s);
  FUZZ_CHECK(again.ok() && again.claims() == claims);
}

void round_trip(FuzzedDataProvider& input) {
  tl::JwtClaims claims;
  claims.sub = input.ConsumeRandomLengthString(80);
  claims.role = static_cast<tl::JwtRole>(input.ConsumeIntegralInRange<int>(0, 2));
  claims.exp = input.ConsumeIntegral<int64_t>();
  if (!tl::is_valid_jwt_subject(claims.sub)) return;
  const std::string token = tl::sign_jwt(claims, secret);
  const tl::JwtResult result = tl::verify_jwt(token, secret, now_unix_s);
  if (claims.exp > now_unix_s) {
    FUZZ_CHECK(result.ok() && result.claims() == claims);
  } else {
    FUZZ_CHECK(!result.ok() && result.failure() == tl::JwtFailure::expired);
  }
  const tl::JwtResult other = tl::verify_jwt(token, "another-secret", now_unix_s);
  FUZZ_CHECK(!other.ok() && other.failure() == tl::JwtFailure::bad_signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  verify_arbitrary(std::string_view(reinterpret_cast<const char*>(bytes), size));
  FuzzedDataProvider input(bytes, size);
  round_trip(input);
  return 0;
}
