#include <doctest/doctest.h>

#include <cctype>
#include <string>

#include "api/webhook_signature.h"

using namespace tl;

namespace {

constexpr std::string_view secret = "whsec_test_0123456789";
constexpr std::string_view body =
    R"({"event":"charge.success","tx_ref":"bk_42","amount":"350.00","currency":"ETB","status":"success","reference":"APx1"})";

}  // namespace

TEST_CASE("SignatureMatchesRfc4231TestCase2") {
  // RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?".
  CHECK(sign_webhook("what do ya want for nothing?", "Jefe") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("GoodSignatureIsAcceptedInEitherCase") {
  const std::string signature = sign_webhook(body, secret);
  CHECK(verify_webhook_signature(body, signature, secret));
  std::string upper = signature;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(upper != signature);
  CHECK(verify_webhook_signature(body, upper, secret));
}

TEST_CASE("WrongSignatureIsRejected") {
  std::string signature = sign_webhook(body, secret);
  signature[10] = signature[10] == '0' ? '1' : '0';
  CHECK_FALSE(verify_webhook_signature(body, signature, secret));
  CHECK_FALSE(verify_webhook_signature(body, std::string(64, '0'), secret));
}

TEST_CASE("TruncatedOrLengthenedSignatureIsRejected") {
  const std::string signature = sign_webhook(body, secret);
  CHECK_FALSE(verify_webhook_signature(body, signature.substr(0, 63), secret));
  CHECK_FALSE(verify_webhook_signature(body, signature.substr(0, 62), secret));
  CHECK_FALSE(verify_webhook_signature(body, signature.substr(0, 32), secret));
  CHECK_FALSE(verify_webhook_signature(body, signature + "0", secret));
  CHECK_FALSE(verify_webhook_signature(body, signature + "00", secret));
  CHECK_FALSE(verify_webhook_signature(body, " " + signature, secret));
}

TEST_CASE("EmptyOrNonHexSignatureIsRejected") {
  CHECK_FALSE(verify_webhook_signature(body, "", secret));
  std::string non_hex = sign_webhook(body, secret);
  non_hex[0] = 'g';
  CHECK_FALSE(verify_webhook_signature(body, non_hex, secret));
  CHECK_FALSE(verify_webhook_signature(body, "sha256=" + sign_webhook(body, secret).substr(7), secret));
}

TEST_CASE("SignatureWithAnotherSecretIsRejected") {
  CHECK_FALSE(verify_webhook_signature(body, sign_webhook(body, "whsec_other"), secret));
  // No secret configured: nothing is ever accepted.
  CHECK_FALSE(verify_webhook_signature(body, sign_webhook(body, secret), ""));
}

TEST_CASE("OneChangedByteOfBodyBreaksTheSignature") {
  const std::string signature = sign_webhook(body, secret);
  for (size_t i = 0; i < body.size(); i += 13) {
    std::string changed(body);
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    CAPTURE(i);
    CHECK_FALSE(verify_webhook_signature(changed, signature, secret));
  }
  CHECK_FALSE(verify_webhook_signature(std::string(body) + " ", signature, secret));
  CHECK(verify_webhook_signature("", sign_webhook("", secret), secret));  // empty body is still signable
}
