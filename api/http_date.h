#pragma once
// The Date header of every response (RFC 9110 §6.6.1: an origin server with a clock must send
// it), in the IMF-fixdate form "Sun, 06 Dec 2026 06:30:00 GMT". It is the wall clock on purpose,
// also in test-clock mode: it describes the message, not the ledger.
#include <ctime>
#include <string>
#include <string_view>

namespace tl {

// IMF-fixdate of `seconds` since the epoch (UTC), independent of the C locale.
std::string format_http_date(std::time_t seconds);

// The current second's Date value, formatted once per second per thread.
std::string_view http_date_now();

}  // namespace tl
