#pragma once
// Writing canonical JSON text: no whitespace, strings escaped one fixed way, integers only.
// The event hash is computed over these bytes, so the escaping rules are part of the format
// (engine/FORMAT.md): `"` and `\` are backslash-escaped; \b \f \n \r \t use their short forms;
// every other byte below 0x20 is \u00XX with lower-case hex; everything else, including
// non-ASCII UTF-8 and 0x7F, is written as it is.
#include <cstdint>
#include <string>
#include <string_view>

namespace tl::json {

// Appends `text` as a quoted, escaped JSON string.
void append_string(std::string& out, std::string_view text);
// Appends a JSON integer in decimal.
void append_int(std::string& out, int64_t value);
// Appends `"key":` (the key is escaped like any string).
void append_key(std::string& out, std::string_view key);

}  // namespace tl::json
