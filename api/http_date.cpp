#include "api/http_date.h"

#include <array>
#include <chrono>

#include <fmt/format.h>

namespace tl {

std::string format_http_date(std::time_t seconds) {
  static constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", days[static_cast<size_t>(utc.tm_wday)], utc.tm_mday,
                     months[static_cast<size_t>(utc.tm_mon)], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string_view http_date_now() {
  // Per thread, so the I/O threads share nothing; a response costs one clock read.
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached_text;
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != cached_second) {
    cached_text = format_http_date(now);
    cached_second = now;
  }
  return cached_text;
}

}  // namespace tl
