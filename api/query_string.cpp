#include "api/query_string.h"

#include <cassert>
#include <charconv>

#include <fmt/format.h>

#include "api/http_errors.h"
#include "api/percent_decode.h"

namespace tl {
namespace {

std::string_view shortened(std::string_view name) { return utf8_prefix(name, echoed_name_bytes_max); }

}  // namespace

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Status QueryParams::read_int64(std::string_view name, int64_t& out, int64_t min, int64_t max) const {
  assert(min <= max);
  const auto text = get(name);
  if (!text) return Status::ok();
  int64_t value = 0;
  const char* end = text->data() + text->size();
  const auto [stop, error] = std::from_chars(text->data(), end, value);
  // from_chars accepts a leading '-' but no '+', no spaces, no fraction: exactly a decimal integer.
  if (text->empty() || error != std::errc() || stop != end || value < min || value > max) {
    return Status::invalid_argument(
        fmt::format("query parameter '{}' must be an integer from {} to {}", shortened(name), min, max));
  }
  out = value;
  return Status::ok();
}

Status parse_query(std::string_view raw, QueryParams& out, size_t query_bytes_max) {
  out.entries_.clear();
  if (raw.size() > query_bytes_max) {
    return Status::invalid_argument(fmt::format("query string is longer than {} bytes", query_bytes_max));
  }
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto key = percent_decode(raw_key, PlusMeans::space);
    if (!key) return Status::invalid_argument("query string has a malformed parameter name");
    if (key->empty()) return Status::invalid_argument("query string has a parameter without a name");
    auto value = percent_decode(raw_value, PlusMeans::space);
    if (!value) {
      return Status::invalid_argument(fmt::format("query parameter '{}' is not valid percent-encoded UTF-8 text",
                                                  shortened(*key)));
    }
    if (out.has(*key)) {
      return Status::invalid_argument(fmt::format("query parameter '{}' is repeated", shortened(*key)));
    }
    if (out.entries_.size() == query_params_max) {
      return Status::invalid_argument(fmt::format("query string has more than {} parameters", query_params_max));
    }
    out.entries_.emplace_back(std::move(*key), std::move(*value));
  }
  assert(out.entries_.size() <= query_params_max);
  return Status::ok();
}

}  // namespace tl
