#include "engine/text_checks.h"

namespace tl {

bool has_control_character(std::string_view text, bool lines) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0x7F) return true;
    if (byte < 0x20 && !(lines && (byte == '\t' || byte == '\n' || byte == '\r'))) return true;
    if (byte == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      return true;
    }
  }
  return false;
}

}  // namespace tl
