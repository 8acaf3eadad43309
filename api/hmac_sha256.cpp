#include "api/hmac_sha256.h"

#include <cassert>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tl {

Digest hmac_sha256(std::string_view key, std::string_view message) {
  assert(key.size() <= INT_MAX);
  Digest digest{};
  unsigned int digest_size = 0;
  // OpenSSL wants a non-null key pointer even for an empty key.
  static constexpr unsigned char empty_key[1] = {0};
  const void* key_bytes = key.empty() ? static_cast<const void*>(empty_key) : key.data();
  const unsigned char* result =
      HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &digest_size);
  if (result == nullptr || digest_size != digest.size()) {
    std::fputs("tutorledger: OpenSSL HMAC-SHA256 failed\n", stderr);
    std::abort();
  }
  return digest;
}

bool constant_time_equal(const void* left, const void* right, size_t size) {
  assert(left != nullptr && right != nullptr);
  return CRYPTO_memcmp(left, right, size) == 0;
}

}  // namespace tl
