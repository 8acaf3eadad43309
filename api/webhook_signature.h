#pragma once
// Payment webhook signatures, as the Chapa gateway makes them (API.md, Payment webhook): the
// `x-chapa-signature` header is the hex HMAC-SHA256 of the raw request body, keyed with env
// TL_WEBHOOK_SECRET.
#include <string>
#include <string_view>

namespace tl {

constexpr std::string_view webhook_signature_header = "x-chapa-signature";

// Lower-case hex HMAC-SHA256 of `raw_body` keyed with `secret` (for tests and benchmarks; the
// provider is the one who signs).
std::string sign_webhook(std::string_view raw_body, std::string_view secret);

// True only when `header_value` is exactly 64 hex digits (either case) equal, compared in
// constant time, to the HMAC of `raw_body`. An empty secret, or an empty, odd-length, short,
// long or non-hex header, is false.
bool verify_webhook_signature(std::string_view raw_body, std::string_view header_value, std::string_view secret);

}  // namespace tl
