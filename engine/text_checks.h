#pragma once
// Checks on text that people or clients send and the ledger keeps or compares: shared by the
// domain's free-text rules (decide.cpp) and the API's header checks (Idempotency-Key).
#include <string_view>

namespace tl {

// C0 controls and DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F); `lines` allows
// tab, line feed and carriage return. Control characters hide or rewrite what a list, a terminal
// or a notification shows.
bool has_control_character(std::string_view text, bool lines);

}  // namespace tl
