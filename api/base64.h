#pragma once
// Base64 in the two alphabets of RFC 4648, with strict decoders: a string that decodes is the
// one canonical encoding of its bytes (no whitespace, no stray padding, no non-zero trailing
// bits), so one token has exactly one spelling.
#include <optional>
#include <string>
#include <string_view>

namespace tl::base64 {

// base64url (RFC 4648 section 5) without padding, as JWTs use it.
std::string encode_url(std::string_view bytes);
// nullopt for '=' padding, characters outside [A-Za-z0-9_-], a length of 1 mod 4, or non-zero
// trailing bits.
std::optional<std::string> decode_url(std::string_view text);

// Standard base64 (RFC 4648 section 4) with '=' padding, as Agora tokens use it.
std::string encode_standard(std::string_view bytes);
// nullopt unless `text` is padded to a multiple of 4, uses only [A-Za-z0-9+/] before the
// padding, and has zero trailing bits.
std::optional<std::string> decode_standard(std::string_view text);

}  // namespace tl::base64
