#include "api/http_errors.h"

#include <cassert>

#include "projections/json_text.h"

namespace tl {

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  assert(status >= 400 && status <= 599);
  assert(!code.empty());
  HttpResponse response;
  response.status = status;
  response.body.reserve(40 + code.size() + message.size());
  response.body += "{\"error\":{";
  json::append_key(response.body, "code");
  json::append_string(response.body, code);
  response.body += ',';
  json::append_key(response.body, "message");
  json::append_string(response.body, message);
  response.body += "}}";
  return response;
}

HttpResponse invalid_request_response(std::string_view message) {
  return error_response(400, "invalid_request", message);
}

HttpResponse not_found_response(std::string_view message) { return error_response(404, "not_found", message); }

std::string_view utf8_prefix(std::string_view text, size_t bytes_max) {
  if (text.size() <= bytes_max) return text;
  size_t end = bytes_max;
  // Back off over continuation bytes (10xxxxxx) to the start of the character that was cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace tl
