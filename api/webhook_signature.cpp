#include "api/webhook_signature.h"

#include <cassert>

#include "api/hmac_sha256.h"
#include "engine/sha256.h"

namespace tl {

std::string sign_webhook(std::string_view raw_body, std::string_view secret) {
  assert(!secret.empty());
  const std::string signature = to_hex(hmac_sha256(secret, raw_body));
  assert(signature.size() == 64);
  return signature;
}

bool verify_webhook_signature(std::string_view raw_body, std::string_view header_value, std::string_view secret) {
  // Without a secret anyone could compute the "signature": never accept one then.
  if (secret.empty()) return false;
  // Decode first, so the comparison is over equal-length bytes and the case of the hex digits
  // does not matter.
  const auto received = digest_from_hex(header_value);
  if (!received) return false;
  const Digest expected = hmac_sha256(secret, raw_body);
  return constant_time_equal(received->data(), expected.data(), expected.size());
}

}  // namespace tl
