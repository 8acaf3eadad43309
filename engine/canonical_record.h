#pragma once
// Reads a stored record laid out exactly as RecordEncoder writes it (engine/FORMAT.md), by hand
// and without a JSON parser. Replay reads every record of the log, and a general JSON parse of
// each envelope was the largest single cost of the reading thread.
//
// Anything but the canonical layout (whitespace, escapes, a field out of place, a damaged byte,
// a number with a leading zero) is declined, and the caller falls back to the general decoder,
// which names the problem. What this accepts is canonical by construction: its text fields
// need no escaping and are valid UTF-8, its numbers are in their one decimal form, and its hash
// tail is 64 lower-case hex digits twice.
//
// `data` is taken as the bytes between `"data":` and the fixed-size hash tail, starting with `{`
// and ending with `}`. Whether those bytes are one valid JSON object is left to whoever reads
// them: the event codec (which refuses trailing bytes) and verify's JsonObjectChecker.
#include <string_view>

#include "engine/event_record.h"

namespace tl {

// The prev_hash and hash of a stored value in the canonical layout, from its fixed 154-byte tail,
// without reading the rest; false when the tail is not laid out that way.
bool read_canonical_chain(std::string_view stored, Digest* prev_hash, Digest* hash);

// True when `stored` has the canonical layout; then every field of `out` is set (its strings
// keep their capacity). False leaves `out` unspecified.
bool parse_canonical_record(std::string_view stored, EventRecord* out);

}  // namespace tl
