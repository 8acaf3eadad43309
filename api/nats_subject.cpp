#include "api/nats_subject.h"

#include <cassert>
#include <charconv>

namespace tl {

std::optional<StoredRecordFront> read_stored_record_front(std::string_view stored) {
  constexpr std::string_view position_key = "{\"position\":";
  constexpr std::string_view stream_key = ",\"stream\":\"";
  if (!stored.starts_with(position_key)) return std::nullopt;
  std::string_view rest = stored.substr(position_key.size());
  StoredRecordFront front;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), front.position);
  if (error != std::errc() || end == rest.data() || front.position == 0) return std::nullopt;
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  if (!rest.starts_with(stream_key)) return std::nullopt;
  rest.remove_prefix(stream_key.size());
  const size_t close = rest.find_first_of("\"\\");
  if (close == std::string_view::npos || rest[close] != '"') return std::nullopt;
  front.stream = rest.substr(0, close);
  return front;
}

std::string stream_type_token(std::string_view stream) {
  std::string token(stream.substr(0, stream.find('-')));
  if (token.empty()) return "_";
  for (char& c : token) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || byte <= 0x20 || byte == 0x7f) c = '_';
  }
  return token;
}

std::string event_subject(std::string_view prefix, std::string_view stream) {
  assert(!prefix.empty());
  std::string subject(prefix);
  subject += '.';
  subject += stream_type_token(stream);
  return subject;
}

std::string all_events_subject(std::string_view prefix) {
  assert(!prefix.empty());
  return std::string(prefix) + ".>";
}

}  // namespace tl
