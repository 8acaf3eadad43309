#include "api/access_log.h"

#include <cassert>
#include <memory>

#include "api/buffered_log.h"
#include "projections/json_text.h"

namespace tl {

std::string format_access_log_line(const AccessLogEntry& entry) {
  assert(entry.status >= 100 && entry.status <= 599);
  std::string line;
  line.reserve(160);
  line += '{';
  json::append_key(line, "time");
  json::append_string(line, format_rfc3339_millis(entry.at));
  line += ',';
  json::append_key(line, "method");
  // The method is client-chosen text: bounded, and escaped like every string.
  json::append_string(line, entry.method.substr(0, access_log_method_bytes_max));
  line += ',';
  json::append_key(line, "route");
  json::append_string(line, entry.route);
  line += ',';
  json::append_key(line, "status");
  json::append_int(line, entry.status);
  line += ',';
  json::append_key(line, "micros");
  json::append_int(line, static_cast<int64_t>(entry.micros));
  line += ',';
  json::append_key(line, "user");
  if (entry.user.empty()) line += "null";
  else json::append_string(line, entry.user);
  line += ',';
  json::append_key(line, "remote");
  json::append_string(line, entry.remote);
  line += "}\n";
  return line;
}

LogSink stderr_log_sink() {
  // Shared by every copy of the sink; the last copy to go writes what is waiting.
  auto log = std::make_shared<BufferedLog>(stderr);
  return [log](std::string_view line) { log->write(line); };
}

}  // namespace tl
