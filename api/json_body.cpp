#include "api/json_body.h"

#include <bitset>
#include <cassert>
#include <string>

#include <fmt/format.h>
#include <simdjson.h>

#include "api/http_errors.h"

namespace tl {
namespace {

namespace od = simdjson::ondemand;

// A currency code is three letters; a little slack gives a clearer error than "too long".
constexpr size_t currency_bytes_max = 16;

// One parser per I/O thread, reused: its buffers grow to the largest body seen, then stay.
thread_local od::parser json_parser{json_body_bytes_max};
// The body is copied here with simdjson's padding behind it.
thread_local std::string padded_body;

template <class... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
// Spelled out for clang 14, which does not deduce aggregate templates yet (the fuzz build).
template <class... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;

Status invalid(std::string message) { return Status::invalid_argument(std::move(message)); }

std::string_view echoed(std::string_view client_text) { return utf8_prefix(client_text, echoed_name_bytes_max); }

Status not_valid_json(std::string_view name) { return invalid(fmt::format("field '{}' is not valid JSON", name)); }

// Walks a value nobody asked for, so that it is checked as JSON (On-Demand only parses what is
// read) and its nesting is bounded.
Status validate_value(od::value value, size_t depth, std::string_view name) {
  od::json_type type;
  if (value.type().get(type)) return not_valid_json(name);
  switch (type) {
    case od::json_type::object: {
      if (depth > json_depth_max) return invalid(fmt::format("field '{}' is nested deeper than {} levels", name, json_depth_max));
      od::object object;
      if (value.get_object().get(object)) return not_valid_json(name);
      for (auto member_result : object) {
        od::field member;
        std::string_view key;
        if (std::move(member_result).get(member) || member.unescaped_key().get(key)) return not_valid_json(name);
        if (Status status = validate_value(member.value(), depth + 1, name); !status.is_ok()) return status;
      }
      return Status::ok();
    }
    case od::json_type::array: {
      if (depth > json_depth_max) return invalid(fmt::format("field '{}' is nested deeper than {} levels", name, json_depth_max));
      od::array array;
      if (value.get_array().get(array)) return not_valid_json(name);
      for (auto element_result : array) {
        od::value element;
        if (std::move(element_result).get(element)) return not_valid_json(name);
        if (Status status = validate_value(element, depth + 1, name); !status.is_ok()) return status;
      }
      return Status::ok();
    }
    case od::json_type::string: {
      std::string_view text;
      return value.get_string().get(text) ? not_valid_json(name) : Status::ok();
    }
    case od::json_type::number: {
      double number;  // only to validate the syntax; the value is dropped
      return value.get_double().get(number) ? not_valid_json(name) : Status::ok();
    }
    case od::json_type::boolean: {
      bool flag;
      return value.get_bool().get(flag) ? not_valid_json(name) : Status::ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      return value.is_null().get(is_null) || !is_null ? not_valid_json(name) : Status::ok();
    }
  }
  return not_valid_json(name);
}

Status read_string(od::value& value, od::json_type type, std::string_view name, size_t bytes_max, std::string& out) {
  assert(bytes_max > 0);
  if (type != od::json_type::string) return invalid(fmt::format("field '{}' must be a string", name));
  std::string_view text;
  if (value.get_string().get(text)) return invalid(fmt::format("field '{}' is not a valid JSON string", name));
  if (text.size() > bytes_max) return invalid(fmt::format("field '{}' is longer than {} bytes", name, bytes_max));
  out.assign(text);  // copy out: the view points into the parser's buffer
  return Status::ok();
}

Status read_int64(od::value& value, od::json_type type, std::string_view name, int64_t min, int64_t max,
                  int64_t& out) {
  assert(min <= max);
  if (type != od::json_type::number) return invalid(fmt::format("field '{}' must be an integer", name));
  int64_t number = 0;
  // get_int64 refuses 1.0, 1e3, -0.5 and anything outside int64: amounts are never rounded.
  if (value.get_int64().get(number)) {
    return invalid(fmt::format("field '{}' must be an integer without fraction or exponent, within 64 bits", name));
  }
  if (number < min || number > max) return invalid(fmt::format("field '{}' must be from {} to {}", name, min, max));
  out = number;
  return Status::ok();
}

Status read_bool(od::value& value, od::json_type type, std::string_view name, bool& out) {
  if (type != od::json_type::boolean || value.get_bool().get(out)) {
    return invalid(fmt::format("field '{}' must be true or false", name));
  }
  return Status::ok();
}

Status read_money(od::value& value, od::json_type type, std::string_view name, int64_t amount_min,
                  int64_t amount_max, Money& out) {
  const std::string amount_name = fmt::format("{}.amount", name);
  const std::string currency_name = fmt::format("{}.currency", name);
  if (type != od::json_type::object) {
    return invalid(fmt::format("field '{}' must be a money object {{\"amount\": integer, \"currency\": \"ISO 4217 code\"}}", name));
  }
  od::object object;
  if (value.get_object().get(object)) return not_valid_json(name);
  bool amount_seen = false;
  bool currency_seen = false;
  for (auto member_result : object) {
    od::field member;
    std::string_view key;
    if (std::move(member_result).get(member) || member.unescaped_key().get(key)) return not_valid_json(name);
    od::value member_value = member.value();
    od::json_type member_type;
    if (key != "amount" && key != "currency") {
      return invalid(fmt::format("field '{}' has an unknown member '{}'", name, echoed(key)));
    }
    const std::string& member_name = key == "amount" ? amount_name : currency_name;
    bool& seen = key == "amount" ? amount_seen : currency_seen;
    if (seen) return invalid(fmt::format("field '{}' appears more than once", member_name));
    seen = true;
    if (member_value.type().get(member_type)) return not_valid_json(member_name);
    if (key == "amount") {
      if (Status status = read_int64(member_value, member_type, amount_name, amount_min, amount_max, out.amount);
          !status.is_ok()) {
        return status;
      }
      continue;
    }
    std::string code;
    if (Status status = read_string(member_value, member_type, currency_name, currency_bytes_max, code); !status.is_ok()) {
      return status;
    }
    const auto currency = Currency::parse(code);
    if (!currency) return invalid(fmt::format("field '{}' must be a known ISO 4217 currency code", currency_name));
    out.currency = *currency;
  }
  if (!amount_seen) return invalid(fmt::format("field '{}' is required", amount_name));
  if (!currency_seen) return invalid(fmt::format("field '{}' is required", currency_name));
  assert(out.currency.valid());
  return Status::ok();
}

bool is_optional(const JsonField& field) {
  return std::visit(Overloaded{[](std::string*) { return false; }, [](int64_t*) { return false; },
                               [](bool*) { return false; }, [](Money*) { return false; },
                               [](auto*) { return true; }},
                    field.target);
}

void reset_if_optional(const JsonField& field) {
  std::visit(Overloaded{[](std::optional<std::string>* out) { out->reset(); },
                        [](std::optional<int64_t>* out) { out->reset(); },
                        [](std::optional<bool>* out) { out->reset(); },
                        [](std::optional<Money>* out) { out->reset(); }, [](auto*) {}},
             field.target);
}

std::string_view kind_text(const JsonField& field) {
  return std::visit(
      Overloaded{[](std::string*) { return "a string"; }, [](std::optional<std::string>*) { return "a string"; },
                 [](int64_t*) { return "an integer"; }, [](std::optional<int64_t>*) { return "an integer"; },
                 [](bool*) { return "true or false"; }, [](std::optional<bool>*) { return "true or false"; },
                 [](Money*) { return "a money object"; }, [](std::optional<Money>*) { return "a money object"; }},
      field.target);
}

Status read_member(const JsonField& field, od::value& value) {
  od::json_type type;
  if (value.type().get(type)) return not_valid_json(field.name);
  if (type == od::json_type::null) {
    bool is_null = false;
    if (value.is_null().get(is_null) || !is_null) return not_valid_json(field.name);
    if (is_optional(field)) return Status::ok();  // null means absent: the destination stays nullopt
    return invalid(fmt::format("field '{}' must be {}, not null", field.name, kind_text(field)));
  }
  const std::string_view name = field.name;
  return std::visit(
      Overloaded{
          [&](std::string* out) { return read_string(value, type, name, field.string_bytes_max, *out); },
          [&](std::optional<std::string>* out) {
            Status status = read_string(value, type, name, field.string_bytes_max, out->emplace());
            return status;
          },
          [&](int64_t* out) { return read_int64(value, type, name, field.int_min, field.int_max, *out); },
          [&](std::optional<int64_t>* out) {
            return read_int64(value, type, name, field.int_min, field.int_max, out->emplace());
          },
          [&](bool* out) { return read_bool(value, type, name, *out); },
          [&](std::optional<bool>* out) { return read_bool(value, type, name, out->emplace()); },
          [&](Money* out) { return read_money(value, type, name, field.int_min, field.int_max, *out); },
          [&](std::optional<Money>* out) {
            return read_money(value, type, name, field.int_min, field.int_max, out->emplace());
          }},
      field.target);
}

JsonField string_field(std::string_view name, JsonField::Target target, size_t bytes_max) {
  assert(!name.empty() && bytes_max > 0);
  JsonField field{name, target};
  field.string_bytes_max = bytes_max;
  return field;
}

JsonField int_field(std::string_view name, JsonField::Target target, int64_t min, int64_t max) {
  assert(!name.empty() && min <= max);
  JsonField field{name, target};
  field.int_min = min;
  field.int_max = max;
  return field;
}

}  // namespace

JsonField json_field(std::string_view name, std::string& out, size_t bytes_max) {
  return string_field(name, &out, bytes_max);
}
JsonField json_field(std::string_view name, std::optional<std::string>& out, size_t bytes_max) {
  return string_field(name, &out, bytes_max);
}
JsonField json_field(std::string_view name, int64_t& out, int64_t min, int64_t max) {
  return int_field(name, &out, min, max);
}
JsonField json_field(std::string_view name, std::optional<int64_t>& out, int64_t min, int64_t max) {
  return int_field(name, &out, min, max);
}
JsonField json_field(std::string_view name, bool& out) {
  assert(!name.empty());
  return JsonField{name, &out};
}
JsonField json_field(std::string_view name, std::optional<bool>& out) {
  assert(!name.empty());
  return JsonField{name, &out};
}
JsonField json_field(std::string_view name, Money& out, int64_t amount_min, int64_t amount_max) {
  return int_field(name, &out, amount_min, amount_max);
}
JsonField json_field(std::string_view name, std::optional<Money>& out, int64_t amount_min, int64_t amount_max) {
  return int_field(name, &out, amount_min, amount_max);
}

Status read_json_body(std::string_view body, std::initializer_list<JsonField> fields) {
  return read_json_body(body, std::span<const JsonField>(fields.begin(), fields.size()));
}

Status read_json_body(std::string_view body, std::span<const JsonField> fields) {
  assert(fields.size() <= json_fields_max);
  for (const JsonField& field : fields) reset_if_optional(field);
  if (body.size() > json_body_bytes_max) return invalid(fmt::format("body is larger than {} bytes", json_body_bytes_max));
  if (body.empty()) body = "{}";  // API.md: a POST with an empty body means {}

  padded_body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  padded_body.assign(body);
  od::document document;
  if (const auto error = json_parser.iterate(std::string_view(padded_body), padded_body.capacity()).get(document)) {
    return invalid(error == simdjson::UTF8_ERROR ? "body is not valid UTF-8" : "body is not valid JSON");
  }
  od::json_type type;
  if (document.type().get(type)) return invalid("body is not valid JSON");
  if (type != od::json_type::object) return invalid("body must be a JSON object");
  od::object object;
  if (document.get_object().get(object)) return invalid("body is not valid JSON");

  std::bitset<json_fields_max> seen;
  for (auto member_result : object) {
    od::field member;
    std::string_view key;
    if (std::move(member_result).get(member) || member.unescaped_key().get(key)) return invalid("body is not valid JSON");
    od::value value = member.value();
    size_t index = 0;
    while (index < fields.size() && fields[index].name != key) ++index;
    if (index == fields.size()) {  // unknown: ignored, but it must be valid JSON
      if (Status status = validate_value(value, 2, echoed(key)); !status.is_ok()) return status;
      continue;
    }
    if (seen[index]) return invalid(fmt::format("field '{}' appears more than once", fields[index].name));
    seen[index] = true;
    if (Status status = read_member(fields[index], value); !status.is_ok()) return status;
  }
  // The object is consumed; anything but the end of input now is trailing content.
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return invalid("body has content after the JSON object");
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!seen[i] && !is_optional(fields[i])) return invalid(fmt::format("field '{}' is required", fields[i].name));
  }
  return Status::ok();
}

}  // namespace tl
