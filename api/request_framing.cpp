#include "api/request_framing.h"

#include "projections/ascii_text.h"

namespace tl::framing {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_unreserved(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool is_sub_delim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }

// Calls `visit` with each non-empty element of comma-separated field lines, trimmed.
template <class Visit>
void for_each_element(const std::vector<std::string_view>& field_lines, Visit visit) {
  for (std::string_view line : field_lines) {
    while (true) {
      const size_t comma = line.find(',');
      const std::string_view element = ascii::trim_blanks(line.substr(0, comma));
      if (!element.empty()) visit(element);
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
}

bool is_reg_name(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
      i += 2;
      continue;
    }
    if (!is_unreserved(c) && !is_sub_delim(c)) return false;
  }
  return true;
}

bool is_port(std::string_view text) {
  for (const char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

bool is_target_text(std::string_view target) {
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F || c == '#') return false;
  }
  return true;
}

bool is_valid_host(std::string_view value) {
  if (!value.empty() && value.front() == '[') {
    const size_t close = value.find(']');
    if (close == std::string_view::npos) return false;
    for (const char c : value.substr(1, close - 1)) {
      if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;  // IPv6, IPvFuture
    }
    if (close == 1) return false;
    const std::string_view rest = value.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    return is_port(rest.substr(1));
  }
  const size_t colon = value.find(':');
  if (colon != std::string_view::npos) {
    if (!is_port(value.substr(colon + 1))) return false;
    value = value.substr(0, colon);
  }
  return is_reg_name(value);
}

TransferCodingsCheck check_transfer_codings(const std::vector<std::string_view>& field_lines) {
  TransferCodingsCheck check;
  size_t codings = 0;
  size_t chunked = 0;
  bool chunked_last = false;
  for_each_element(field_lines, [&](std::string_view element) {
    const std::string_view name = ascii::trim_blanks(element.substr(0, element.find(';')));
    ++codings;
    chunked_last = ascii::equals_ignoring_case(name, "chunked");
    if (chunked_last) {
      ++chunked;
    } else if (check.unsupported.empty()) {
      check.unsupported = std::string(name);
    }
  });
  if (!chunked_last || chunked != 1) {
    check.verdict = TransferCodings::chunked_not_last;
  } else if (codings > 1) {
    check.verdict = TransferCodings::unsupported;
  }
  return check;
}

bool asks_to_close(const std::vector<std::string_view>& field_lines) {
  bool close = false;
  for_each_element(field_lines,
                   [&](std::string_view element) { close = close || ascii::equals_ignoring_case(element, "close"); });
  return close;
}

std::optional<std::string_view> origin_form_of_absolute(std::string_view target) {
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!ascii::equals_ignoring_case(scheme, "http") && !ascii::equals_ignoring_case(scheme, "https"))
    return std::nullopt;
  const std::string_view after_authority = target.substr(scheme_end + 3);
  const size_t path = after_authority.find_first_of("/?#");
  const std::string_view authority = after_authority.substr(0, path);
  // User info before the host is deprecated and a way to disguise one (RFC 9110 §4.2.4).
  if (authority.empty() || authority.find('@') != std::string_view::npos || !is_valid_host(authority))
    return std::nullopt;
  if (path == std::string_view::npos) return std::string_view("/");
  if (after_authority[path] != '/') return std::nullopt;  // "http://host?q": no path to give the query to
  return after_authority.substr(path);
}

}  // namespace tl::framing
