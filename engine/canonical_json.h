#pragma once
// A validator for JSON in the canonical subset this codebase writes (engine/canonical_cursor.h):
// objects, arrays, strings that need no escaping, integers in their shortest form, and the three
// literals, with no whitespace. Every event's data is in that subset, and checking it by hand is
// several times cheaper than a general parse, which appends and `replay verify` do per event.
#include <string_view>

namespace tl {

// Nesting deeper than this is left to the general parser.
constexpr int canonical_json_depth_max = 64;

// True when `text` is exactly one JSON object in the canonical subset (so certainly valid JSON).
// False means "not shown valid here", not "invalid": the caller then asks a general parser.
bool is_canonical_json_object(std::string_view text);

}  // namespace tl
