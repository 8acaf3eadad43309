#include "api/percent_decode.h"

#include <simdjson.h>

namespace tl {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char byte) { return byte < 0x20 || byte == 0x7F; }

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, PlusMeans plus) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two hex digits after the %
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus == PlusMeans::space) {
      c = ' ';
    }
    if (is_control(static_cast<unsigned char>(c))) return std::nullopt;
    decoded.push_back(c);
  }
  if (!simdjson::validate_utf8(decoded.data(), decoded.size())) return std::nullopt;
  return decoded;
}

}  // namespace tl
