#pragma once
// HMAC-SHA256 (OpenSSL) and a constant-time comparison, shared by the JWT, Agora and webhook code.
#include <cstddef>
#include <string_view>

#include "engine/sha256.h"

namespace tl {

// HMAC-SHA256 of `message` keyed with `key`. Aborts if OpenSSL fails (out of memory): a zero
// digest returned instead could be matched by a forged all-zero signature, so failing closed
// is the only safe outcome.
Digest hmac_sha256(std::string_view key, std::string_view message);

// True when the two equal-length byte ranges are equal; the time taken does not depend on
// where they differ (OpenSSL CRYPTO_memcmp).
bool constant_time_equal(const void* left, const void* right, size_t size);

}  // namespace tl
