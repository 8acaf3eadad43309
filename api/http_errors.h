#pragma once
// The one error shape of the API (API.md, Conventions):
// {"error": {"code": "<code>", "message": "<text for humans>"}}.
#include <cstddef>
#include <string_view>

#include "api/http_types.h"

namespace tl {

// A JSON error response with `status`, `code` and `message` (both escaped).
HttpResponse error_response(int status, std::string_view code, std::string_view message);

// 400 `invalid_request`: malformed JSON, wrong type, missing or out-of-range field or query.
HttpResponse invalid_request_response(std::string_view message);

// 404 `not_found`.
HttpResponse not_found_response(std::string_view message);

// Client-supplied names (JSON keys, query parameters) are echoed in error messages: at most
// `bytes_max` bytes of `text`, cut on a UTF-8 character boundary so the message stays valid UTF-8.
std::string_view utf8_prefix(std::string_view text, size_t bytes_max);

// The usual bound for such echoes.
constexpr size_t echoed_name_bytes_max = 64;

}  // namespace tl
