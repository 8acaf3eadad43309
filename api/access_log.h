#pragma once
// One JSON line per request: {"time","method","route","status","micros","user","remote"}. Only
// these fields: never the Authorization header, tokens, bodies, query strings or raw paths.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "projections/time.h"

namespace tl {

struct AccessLogEntry {
  TimeMs at = 0;             // when the request arrived (wall clock)
  std::string_view method;   // as sent; cut to access_log_method_bytes_max
  std::string_view route;    // the route pattern, "unmatched" or "unrouted"
  int status = 0;
  uint64_t micros = 0;       // from the request's arrival to the end of writing the response
  std::string_view user;     // empty: written as null
  std::string_view remote;
};

constexpr size_t access_log_method_bytes_max = 16;

// The line, ending in '\n'.
std::string format_access_log_line(const AccessLogEntry& entry);

// Receives each finished line; called concurrently from I/O threads, so it must be thread-safe
// and quick (it runs on the I/O thread).
using LogSink = std::function<void(std::string_view line)>;

// Writes the lines to stderr whole, never interleaved, in batches from a thread of its own
// (api/buffered_log.h): at most 100 ms late, and dropped (counted) rather than holding up an
// answer when stderr does not keep up.
LogSink stderr_log_sink();

}  // namespace tl
