#pragma once
// Time as integer milliseconds since the Unix epoch (UTC). The deterministic core never reads a
// clock: every command carries its `now`. These helpers only convert.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

using TimeMs = int64_t;

constexpr TimeMs ms_per_second = 1000;
constexpr TimeMs ms_per_minute = 60 * ms_per_second;
constexpr TimeMs ms_per_hour = 60 * ms_per_minute;
constexpr TimeMs ms_per_day = 24 * ms_per_hour;

// Earliest and latest instants accepted anywhere (years 1970 through 9999).
constexpr TimeMs time_ms_min = 0;
constexpr TimeMs time_ms_max = 253402300799999;

// The instant's second, rounded down or up. HTTP speaks whole seconds (below), so times that come
// in with a fraction are taken to their second, and the test clock keeps to whole seconds: what
// a client reads back is then exactly what the server decides with.
constexpr TimeMs floor_to_second(TimeMs at) { return at - ((at % ms_per_second) + ms_per_second) % ms_per_second; }
constexpr TimeMs ceil_to_second(TimeMs at) {
  const TimeMs floor = floor_to_second(at);
  return floor == at ? at : floor + ms_per_second;
}

// RFC 3339 in UTC with `Z`: "2026-11-24T10:00:00Z", or "2026-11-24T10:00:00.250Z" when the
// instant has milliseconds.
std::string format_rfc3339(TimeMs at);
// Whole seconds always ("2026-11-24T10:00:00Z", the instant rounded down to its second): the one
// format of every time in HTTP answers, so that a client parses a single shape and gets back the
// times it sent byte for byte. (format_rfc3339 adds milliseconds when there are any: messages.)
std::string format_rfc3339_seconds(TimeMs at);
// The same text as a JSON string, quotes included, appended to `out` without a temporary string
// (the text needs no escaping): the writer renders several per reply.
void append_rfc3339_seconds_json(std::string& out, TimeMs at);
// Milliseconds always ("2026-11-24T10:00:00.000Z"): the CLI's outputs and the request log, whose
// times have one width and so sort as text ("…00Z" would sort after "…00.250Z").
std::string format_rfc3339_millis(TimeMs at);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; fractions finer than a
// millisecond must be zeros (no silent rounding). nullopt for anything else or out of range.
std::optional<TimeMs> parse_rfc3339(std::string_view text);
// The same times with any number of fraction digits, those finer than a millisecond dropped
// (rounding down): for times only shown or kept, never compared finer (a statement's `at`).
std::optional<TimeMs> parse_rfc3339_dropping_sub_millis(std::string_view text);
// The same, rounded down to the second: for inputs the server keeps in whole seconds anyway (a
// booking's start, the test clock), so that a client sending microseconds (Python's isoformat) is
// not refused over digits that would be dropped.
std::optional<TimeMs> parse_rfc3339_to_second(std::string_view text);

}  // namespace tl
