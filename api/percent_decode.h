#pragma once
// Percent-decoding of URL path segments and query components (RFC 3986, section 2.1).
#include <optional>
#include <string>
#include <string_view>

namespace tl {

enum class PlusMeans { plus, space };  // '+' is a space only in query strings (form encoding)

// Decodes "%XX" escapes (either hex case). nullopt when an escape is malformed ("%4", "%zz"), when
// the result is not valid UTF-8, or when it contains a control character (below 0x20, or 0x7F):
// none of those has a place in an id, a cursor or a log line, and "\0" separates RocksDB key parts.
std::optional<std::string> percent_decode(std::string_view text, PlusMeans plus);

}  // namespace tl
