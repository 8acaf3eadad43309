#include <doctest/doctest.h>

#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/jwt.h"

using namespace tl;

namespace {

constexpr std::string_view secret = "test-secret-0123456789";
constexpr int64_t now = 1'800'000'000;

// base64url written with OpenSSL's encoder, independent of the code under test.
std::string openssl_base64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int size =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// A token made by hand: literal header and payload JSON, HMAC-SHA256 straight from OpenSSL.
std::string hand_signed(std::string_view header, std::string_view payload, std::string_view key = secret) {
  const std::string signing_input = openssl_base64url(header) + "." + openssl_base64url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_size);
  return signing_input + "." + openssl_base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

constexpr std::string_view hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string with_payload(std::string_view payload) { return hand_signed(hs256_header, payload); }

JwtFailure failure_of(std::string_view token) {
  const JwtResult result = verify_jwt(token, secret, now);
  REQUIRE_FALSE(result.ok());
  return result.failure();
}

}  // namespace

TEST_CASE("SignedTokenVerifiesWithItsClaims") {
  for (const JwtRole role : {JwtRole::student, JwtRole::tutor, JwtRole::admin}) {
    const JwtClaims claims{.sub = "user_01-A", .role = role, .exp = now + 60};
    const std::string token = sign_jwt(claims, secret);
    CHECK(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));  // {"alg":"HS256","typ":"JWT"}
    const JwtResult result = verify_jwt(token, secret, now);
    REQUIRE(result.ok());
    CHECK(result.claims() == claims);
  }
}

TEST_CASE("TokenMadeByHandWithOpenSslIsAccepted") {
  const std::string token = hand_signed(hs256_header, R"({"sub":"s1","role":"tutor","exp":1800000600})");
  const JwtResult result = verify_jwt(token, secret, now);
  REQUIRE(result.ok());
  CHECK(result.claims() == JwtClaims{.sub = "s1", .role = JwtRole::tutor, .exp = 1800000600});
  // And sign_jwt writes exactly what a hand-written canonical payload gives.
  CHECK(sign_jwt(result.claims(), secret) == token);
}

TEST_CASE("PublishedHs256TokensPassTheSignatureCheckButLackOurClaims") {
  // RFC 7515 appendix A.1: whitespace in the JSON, key given as base64url of raw bytes.
  const std::string rfc_token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const unsigned char rfc_key[] = {3,   35,  53, 75,  43,  15, 165, 188, 131, 126, 6,   101, 119, 123, 166, 143,
                                   90,  179, 40, 230, 240, 84, 201, 40,  169, 15,  132, 178, 210, 80,  46,  191,
                                   211, 251, 90, 146, 210, 6,  71,  239, 150, 138, 180, 195, 119, 98,  61,  34,
                                   61,  46,  33, 114, 5,   46, 79,  8,   192, 205, 154, 245, 103, 208, 128, 163};
  const std::string_view key(reinterpret_cast<const char*>(rfc_key), sizeof rfc_key);
  // bad_claims (no sub or role), not bad_signature: the signature was accepted.
  const JwtResult rfc = verify_jwt(rfc_token, key, 1300819000);
  REQUIRE_FALSE(rfc.ok());
  CHECK(rfc.failure() == JwtFailure::bad_claims);
  CHECK(verify_jwt(rfc_token, "another key", 1300819000).failure() == JwtFailure::bad_signature);

  // The jwt.io example, secret "your-256-bit-secret".
  const std::string jwt_io_token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  CHECK(verify_jwt(jwt_io_token, "your-256-bit-secret", now).failure() == JwtFailure::bad_claims);
  CHECK(verify_jwt(jwt_io_token, "your-256-bit-secreT", now).failure() == JwtFailure::bad_signature);
}

TEST_CASE("TokenExpiresWhenNowReachesExp") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::student, .exp = now}, secret);
  CHECK(verify_jwt(token, secret, now - 1).ok());
  CHECK(verify_jwt(token, secret, now).failure() == JwtFailure::expired);
  CHECK(verify_jwt(token, secret, now + 1).failure() == JwtFailure::expired);
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student","exp":-5})")) == JwtFailure::expired);
}

TEST_CASE("AlgNoneIsRejectedWithOrWithoutASignature") {
  const std::string header = openssl_base64url(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = openssl_base64url(R"({"sub":"s1","role":"admin","exp":1900000000})");
  CHECK(failure_of(header + "." + payload + ".") == JwtFailure::bad_algorithm);
  CHECK(failure_of(hand_signed(R"({"alg":"none"})", R"({"sub":"s1","role":"admin","exp":1900000000})")) ==
        JwtFailure::bad_algorithm);
}

TEST_CASE("AlgorithmsOtherThanExactlyHs256AreRejected") {
  const std::string payload = R"({"sub":"s1","role":"admin","exp":1900000000})";
  for (const std::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})", R"({"typ":"JWT"})", R"({"alg":"hs256"})",
        R"({"alg":"HS256 "})", R"({"alg":["HS256"]})", R"({"alg":null})", R"({"alg":"HS256","alg":"none"})"}) {
    CAPTURE(header);
    CHECK(failure_of(hand_signed(header, payload)) == JwtFailure::bad_algorithm);
  }
  // Header members we do not know are fine, except critical extensions.
  CHECK(verify_jwt(hand_signed(R"({"kid":"k1","alg":"HS256"})", payload), secret, now).ok());
  CHECK(failure_of(hand_signed(R"({"alg":"HS256","crit":["exp"]})", payload)) == JwtFailure::malformed);
  CHECK(failure_of(hand_signed(R"({"alg":"HS256"} {})", payload)) == JwtFailure::malformed);
  CHECK(failure_of(hand_signed(R"(["HS256"])", payload)) == JwtFailure::malformed);
}

TEST_CASE("TamperedHeaderOrPayloadFailsTheOldSignature") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::student, .exp = now + 60}, secret);
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  const std::string old_signature = token.substr(second_dot);

  const std::string admin_payload = openssl_base64url(R"({"sub":"s1","role":"admin","exp":1800000060})");
  CHECK(failure_of(token.substr(0, first_dot + 1) + admin_payload + old_signature) == JwtFailure::bad_signature);
  const std::string other_header = openssl_base64url(R"({"alg":"HS256","typ":"JWT","kid":"x"})");
  CHECK(failure_of(other_header + token.substr(first_dot)) == JwtFailure::bad_signature);
  std::string flipped = token;
  flipped[second_dot + 5] = flipped[second_dot + 5] == 'A' ? 'B' : 'A';
  CHECK(failure_of(flipped) == JwtFailure::bad_signature);
}

TEST_CASE("WrongSecretIsABadSignature") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::tutor, .exp = now + 60}, "the other secret");
  CHECK(failure_of(token) == JwtFailure::bad_signature);
}

TEST_CASE("BadBase64urlIsMalformed") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::tutor, .exp = now + 60}, secret);
  CHECK(failure_of(token + "=") == JwtFailure::malformed);  // padding
  CHECK(failure_of("*" + token) == JwtFailure::malformed);  // character outside the alphabet
  std::string with_plus = token;
  with_plus[3] = '+';
  CHECK(failure_of(with_plus) == JwtFailure::malformed);
  // 32 bytes are 43 digits whose last 2 bits are zero; 'd' ends in 01 and is not canonical.
  std::string trailing_bits = token;
  trailing_bits.back() = static_cast<char>(((trailing_bits.back() == 'A') ? 'B' : 'd'));
  CHECK(failure_of(trailing_bits) == JwtFailure::malformed);
  // A signature of the wrong length is a bad signature, not a crash.
  CHECK(failure_of(token.substr(0, token.rfind('.')) + ".AAAA") == JwtFailure::bad_signature);
}

TEST_CASE("ExpMustBeAnInteger") {
  for (const std::string_view exp :
       {"1.5", "\"1900000000\"", "1e10", "1900000000.0", "true", "null", "[1]", "9223372036854775808"}) {
    CAPTURE(exp);
    const std::string payload = std::string(R"({"sub":"s1","role":"student","exp":)") + std::string(exp) + "}";
    CHECK(failure_of(with_payload(payload)) == JwtFailure::bad_claims);
  }
}

TEST_CASE("SubjectMustBe1To64OfTheAllowedCharacters") {
  const std::string longest(64, 'a');
  CHECK(
      verify_jwt(with_payload(R"({"sub":")" + longest + R"(","role":"student","exp":1900000000})"), secret, now).ok());
  for (const std::string& sub : {std::string(65, 'a'), std::string(""), std::string("a b"), std::string("a.b"),
                                 std::string("a/b"), std::string("\\u00fc"), std::string("a\\u0000")}) {
    CAPTURE(sub);
    CHECK(failure_of(with_payload(R"({"sub":")" + sub + R"(","role":"student","exp":1900000000})")) ==
          JwtFailure::bad_claims);
  }
  CHECK(failure_of(with_payload(R"({"sub":42,"role":"student","exp":1900000000})")) == JwtFailure::bad_claims);
}

TEST_CASE("UnknownRoleIsBadClaims") {
  for (const std::string_view role : {R"("root")", R"("Student")", R"("")", "1", "null"}) {
    CAPTURE(role);
    CHECK(failure_of(with_payload(std::string(R"({"sub":"s1","role":)") + std::string(role) +
                                  R"(,"exp":1900000000})")) == JwtFailure::bad_claims);
  }
}

TEST_CASE("MissingOrRepeatedClaimsAreBadClaims") {
  CHECK(failure_of(with_payload(R"({"role":"student","exp":1900000000})")) == JwtFailure::bad_claims);
  CHECK(failure_of(with_payload(R"({"sub":"s1","exp":1900000000})")) == JwtFailure::bad_claims);
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student"})")) == JwtFailure::bad_claims);
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student","role":"admin","exp":1900000000})")) ==
        JwtFailure::bad_claims);
  // Other claims are allowed and ignored, except a future nbf.
  CHECK(
      verify_jwt(with_payload(R"({"iat":1,"sub":"s1","x":{"y":[1,2]},"role":"student","exp":1900000000})"), secret, now)
          .ok());
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student","exp":1900000000,"nbf":1800000001})")) ==
        JwtFailure::bad_claims);
  CHECK(
      verify_jwt(with_payload(R"({"sub":"s1","role":"student","exp":1900000000,"nbf":1800000000})"), secret, now).ok());
}

TEST_CASE("PayloadThatIsNotOneJsonObjectIsMalformed") {
  CHECK(failure_of(with_payload("not json")) == JwtFailure::malformed);
  CHECK(failure_of(with_payload(R"(["s1"])")) == JwtFailure::malformed);
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student","exp":1900000000}{})")) == JwtFailure::malformed);
  CHECK(failure_of(with_payload(R"({"sub":"s1","role":"student","exp":1900000000)")) == JwtFailure::malformed);
}

TEST_CASE("TokenWithOtherThanThreePartsIsMalformed") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::tutor, .exp = now + 60}, secret);
  CHECK(failure_of(token + ".") == JwtFailure::malformed);
  CHECK(failure_of(token + ".AAAA") == JwtFailure::malformed);
  CHECK(failure_of(token.substr(0, token.rfind('.'))) == JwtFailure::malformed);
  CHECK(failure_of(token.substr(0, token.find('.'))) == JwtFailure::malformed);
  CHECK(failure_of("") == JwtFailure::malformed);
  CHECK(failure_of("..") == JwtFailure::malformed);
}

TEST_CASE("TokenLongerThanTheLimitIsMalformed") {
  const std::string long_sub(jwt_subject_bytes_max, 'a');
  std::string payload = R"({"sub":")" + long_sub + R"(","role":"student","exp":1900000000,"pad":")";
  payload += std::string(jwt_token_bytes_max, 'x') + "\"}";
  const JwtResult result = verify_jwt(with_payload(payload), secret, now);
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure() == JwtFailure::malformed);
}

TEST_CASE("FailureMessagesNeverContainTheSecret") {
  const std::string token = sign_jwt({.sub = "s1", .role = JwtRole::tutor, .exp = now + 60}, secret);
  for (const std::string& bad :
       {token + "x", token.substr(1), sign_jwt({.sub = "s1", .role = JwtRole::tutor, .exp = 1}, secret),
        with_payload("{}"), std::string("a.b.c")}) {
    const JwtResult result = verify_jwt(bad, secret, now);
    REQUIRE_FALSE(result.ok());
    CHECK_FALSE(result.message().empty());
    CHECK(result.message().find(secret) == std::string::npos);
  }
}

TEST_CASE("RoleNamesRoundTrip") {
  for (const JwtRole role : {JwtRole::student, JwtRole::tutor, JwtRole::admin}) {
    CHECK(parse_jwt_role(jwt_role_name(role)) == role);
  }
  CHECK_FALSE(parse_jwt_role("Admin"));
  CHECK(jwt_failure_name(JwtFailure::bad_signature) == "bad_signature");
}
