#include "projections/time.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace tl {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

bool is_leap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(int64_t year, unsigned month) {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// Reads exactly `count` digits at `pos`; -1 when they are not all digits.
int64_t read_digits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return -1;
  int64_t value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

namespace {

enum class Millis { when_any, always };

// Writes the text into `text` (24 bytes) and returns its length, 20 or 24.
size_t write_rfc3339(TimeMs at, Millis millis_shown, char* text) {
  assert(at >= time_ms_min && at <= time_ms_max);
  const int64_t days = at / ms_per_day;
  const int64_t ms_of_day = at % ms_per_day;
  const Civil date = civil_from_days(days);
  assert(date.year >= 0 && date.year <= 9999);
  // Digits written in place: every reply shows several times, and fmt's padded fields cost
  // several times more than the arithmetic (measured: 3.7% of the writer thread under POSTs).
  constexpr std::string_view pattern = "0000-00-00T00:00:00.000Z";
  std::copy(pattern.begin(), pattern.end(), text);
  auto put = [text](size_t pos, int64_t value, size_t digits) {
    for (size_t i = digits; i-- > 0; value /= 10) text[pos + i] = static_cast<char>('0' + value % 10);
  };
  put(0, date.year, 4);
  put(5, date.month, 2);
  put(8, date.day, 2);
  put(11, ms_of_day / ms_per_hour, 2);
  put(14, ms_of_day % ms_per_hour / ms_per_minute, 2);
  put(17, ms_of_day % ms_per_minute / ms_per_second, 2);
  const int64_t millis = ms_of_day % ms_per_second;
  if (millis == 0 && millis_shown == Millis::when_any) {
    text[19] = 'Z';
    return 20;
  }
  put(20, millis, 3);
  return 24;
}

std::string format_rfc3339_as(TimeMs at, Millis millis_shown) {
  char text[24];
  return std::string(text, write_rfc3339(at, millis_shown, text));
}

}  // namespace

std::string format_rfc3339(TimeMs at) { return format_rfc3339_as(at, Millis::when_any); }

std::string format_rfc3339_millis(TimeMs at) { return format_rfc3339_as(at, Millis::always); }

std::string format_rfc3339_seconds(TimeMs at) { return format_rfc3339(floor_to_second(at)); }

void append_rfc3339_seconds_json(std::string& out, TimeMs at) {
  char text[24];
  const size_t length = write_rfc3339(floor_to_second(at), Millis::when_any, text);
  assert(length == 20);
  out += '"';
  out.append(text, length);
  out += '"';
}

namespace {

enum class FinerThanMillis { refused, dropped };

std::optional<TimeMs> parse_rfc3339_as(std::string_view text, FinerThanMillis finer) {
  constexpr size_t text_bytes_max = 40;
  if (text.size() < 20 || text.size() > text_bytes_max) return std::nullopt;
  const int64_t year = read_digits(text, 0, 4);
  const int64_t month = read_digits(text, 5, 2);
  const int64_t day = read_digits(text, 8, 2);
  const int64_t hour = read_digits(text, 11, 2);
  const int64_t minute = read_digits(text, 14, 2);
  const int64_t second = read_digits(text, 17, 2);
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  if (day > days_in_month(year, static_cast<unsigned>(month))) return std::nullopt;

  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t fraction_digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (fraction_digits < 3) {
        millis = millis * 10 + (text[pos] - '0');
      } else if (text[pos] != '0' && finer == FinerThanMillis::refused) {
        return std::nullopt;  // finer than a millisecond: refuse rather than round
      }
      ++fraction_digits;
      ++pos;
    }
    if (fraction_digits == 0) return std::nullopt;
    for (size_t i = fraction_digits; i < 3; ++i) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;

  int64_t offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int64_t offset_hours = read_digits(text, pos + 1, 2);
    const int64_t offset_mins = read_digits(text, pos + 4, 2);
    if (offset_hours < 0 || offset_hours > 23 || offset_mins < 0 || offset_mins > 59) return std::nullopt;
    if (pos + 3 >= text.size() || text[pos + 3] != ':') return std::nullopt;
    offset_minutes = (offset_hours * 60 + offset_mins) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const TimeMs at = days * ms_per_day + hour * ms_per_hour + minute * ms_per_minute + second * ms_per_second +
                    millis - offset_minutes * ms_per_minute;
  if (at < time_ms_min || at > time_ms_max) return std::nullopt;
  return at;
}

}  // namespace

std::optional<TimeMs> parse_rfc3339(std::string_view text) { return parse_rfc3339_as(text, FinerThanMillis::refused); }

std::optional<TimeMs> parse_rfc3339_dropping_sub_millis(std::string_view text) {
  return parse_rfc3339_as(text, FinerThanMillis::dropped);
}

std::optional<TimeMs> parse_rfc3339_to_second(std::string_view text) {
  const std::optional<TimeMs> at = parse_rfc3339_dropping_sub_millis(text);
  if (!at) return std::nullopt;
  return floor_to_second(*at);
}

}  // namespace tl
