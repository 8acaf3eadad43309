#pragma once
// A small declarative reader for JSON request bodies: the route lists the top-level members it
// wants (name, destination, limits) and read_json_body() walks the object once with simdjson
// On-Demand (one reused parser per thread), filling the destinations.
//
//   CreateBooking body;
//   Status status = read_json_body(request.body, {
//       json_field("tutor_id", body.tutor_id, 64),
//       json_field("duration_minutes", body.duration_minutes, 15, 240),
//       json_field("price", body.price, 1, 1'000'000'000'000),
//       json_field("reason", body.reason, 500),          // std::optional<std::string>: optional
//   });
//   if (!status.is_ok()) return respond(invalid_request_response(status.message()));
//
// The kind of a member (string, int64, bool, money) follows from the destination's type; a
// std::optional destination makes the member optional (absent or null leaves it nullopt).
// Errors are invalid_argument with a message naming the member, for a 400 `invalid_request`:
// malformed JSON, a top level that is not an object, wrong type, missing required member,
// duplicate member, numbers that are not exact int64 integers (1.0, 1e3, -0.5, 2^63), strings over
// their byte limit or with invalid escapes, invalid UTF-8, trailing content after the object, and
// nesting deeper than json_depth_max. Unknown members are ignored but must be valid JSON.
// An empty body reads as {}. On error the destinations are left partly filled: do not use them.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "engine/status.h"
#include "projections/money.h"

namespace tl {

// Nesting of objects and arrays, the top-level object counting as 1.
constexpr size_t json_depth_max = 16;
// Members one read may ask for.
constexpr size_t json_fields_max = 32;
// Bodies are already bounded by the server (ServerOptions::body_bytes_max); this bounds the
// parser's buffers on its own.
constexpr size_t json_body_bytes_max = 1024 * 1024;

struct JsonField {
  using Target = std::variant<std::string*, std::optional<std::string>*, int64_t*, std::optional<int64_t>*, bool*,
                              std::optional<bool>*, Money*, std::optional<Money>*>;
  std::string_view name;
  Target target;
  size_t string_bytes_max = 0;  // strings
  int64_t int_min = std::numeric_limits<int64_t>::min();  // integers, and a money object's amount
  int64_t int_max = std::numeric_limits<int64_t>::max();
};

JsonField json_field(std::string_view name, std::string& out, size_t bytes_max);
JsonField json_field(std::string_view name, std::optional<std::string>& out, size_t bytes_max);
JsonField json_field(std::string_view name, int64_t& out, int64_t min = std::numeric_limits<int64_t>::min(),
                     int64_t max = std::numeric_limits<int64_t>::max());
JsonField json_field(std::string_view name, std::optional<int64_t>& out,
                     int64_t min = std::numeric_limits<int64_t>::min(),
                     int64_t max = std::numeric_limits<int64_t>::max());
JsonField json_field(std::string_view name, bool& out);
JsonField json_field(std::string_view name, std::optional<bool>& out);
// A money object {"amount": <int64 minor units>, "currency": "<ISO 4217 code>"}. Its members are
// both required and no others are allowed: a stray "scale" or "decimals" must not be ignored.
JsonField json_field(std::string_view name, Money& out, int64_t amount_min = std::numeric_limits<int64_t>::min(),
                     int64_t amount_max = std::numeric_limits<int64_t>::max());
JsonField json_field(std::string_view name, std::optional<Money>& out,
                     int64_t amount_min = std::numeric_limits<int64_t>::min(),
                     int64_t amount_max = std::numeric_limits<int64_t>::max());

Status read_json_body(std::string_view body, std::span<const JsonField> fields);
Status read_json_body(std::string_view body, std::initializer_list<JsonField> fields);

}  // namespace tl
