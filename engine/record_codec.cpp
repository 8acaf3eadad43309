#include "engine/record_codec.h"

#include <array>
#include <cassert>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/big_endian.h"
#include "engine/canonical_json.h"
#include "engine/canonical_record.h"
#include "projections/json_text.h"

namespace tl {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view hash_tail_open = R"(,"hash":")";
constexpr std::string_view hash_tail_close = R"("})";
constexpr size_t record_field_count = 11;
constexpr std::array<std::string_view, record_field_count> record_field_names = {
    "position", "stream", "version", "type", "schema", "at", "actor", "command_id", "data", "prev_hash", "hash"};

void append_uint(std::string& out, uint64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void append_sint(std::string& out, int64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void append_hex(std::string& out, const Digest& digest) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  const size_t start = out.size();
  out.resize(start + 2 * digest.size());
  for (size_t i = 0; i < digest.size(); ++i) {
    out[start + 2 * i] = hex_digits[digest[i] >> 4];
    out[start + 2 * i + 1] = hex_digits[digest[i] & 0xF];
  }
}

// SHA-256(prev_hash || position u64 BE || body || closing): the canonical bytes may arrive in
// two pieces so that the stored value can be hashed without copying it.
Digest chain_hash(Sha256& sha, const Digest& prev_hash, uint64_t position, std::string_view body,
                  std::string_view closing) {
  uint8_t position_be[8];
  store_u64_be(position_be, position);
  sha.update(prev_hash.data(), prev_hash.size());
  sha.update(position_be, sizeof position_be);
  sha.update(body);
  sha.update(closing);
  return sha.finish();
}

Status corrupt(std::string_view what) { return Status::corruption(std::string(what)); }

// What read_field found wrong: nothing (the common case, cheap to return), a simdjson error,
// or a value out of range.
struct FieldProblem {
  simdjson::error_code error = simdjson::SUCCESS;
  const char* what = nullptr;
  bool ok() const { return error == simdjson::SUCCESS && what == nullptr; }
};

Status field_error(size_t index, const FieldProblem& problem) {
  return Status::corruption(fmt::format("field \"{}\": {}", record_field_names[index],
                                        problem.what != nullptr ? problem.what : simdjson::error_message(problem.error)));
}

std::string_view trim_trailing_whitespace(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads field number `index` of the canonical order into `out`.
FieldProblem read_field(size_t index, od::value& value, EventRecord* out) {
  std::string_view text;
  uint64_t unsigned_value = 0;
  int64_t signed_value = 0;
  FieldProblem problem;
  switch (index) {
    case 0:
      if ((problem.error = value.get_uint64().get(unsigned_value))) return problem;
      out->position = unsigned_value;
      return problem;
    case 2:
      if ((problem.error = value.get_uint64().get(unsigned_value))) return problem;
      if (unsigned_value > std::numeric_limits<uint32_t>::max()) return FieldProblem{simdjson::SUCCESS, "out of range"};
      out->version = static_cast<uint32_t>(unsigned_value);
      return problem;
    case 4:
      if ((problem.error = value.get_int64().get(signed_value))) return problem;
      if (signed_value < std::numeric_limits<int32_t>::min() || signed_value > std::numeric_limits<int32_t>::max()) {
        return FieldProblem{simdjson::SUCCESS, "out of range"};
      }
      out->schema = static_cast<int32_t>(signed_value);
      return problem;
    case 5:
      if ((problem.error = value.get_int64().get(signed_value))) return problem;
      out->at = signed_value;
      return problem;
    case 8: {
      od::object data;
      if ((problem.error = value.get_object().get(data))) return problem;
      if ((problem.error = data.raw_json().get(text))) return problem;
      out->data.assign(trim_trailing_whitespace(text));
      return problem;
    }
    case 9:
    case 10: {
      if ((problem.error = value.get_string().get(text))) return problem;
      const std::optional<Digest> digest = lower_hex_digest(text);
      if (!digest) return FieldProblem{simdjson::SUCCESS, "not 64 lower-case hex digits"};
      (index == 9 ? out->prev_hash : out->hash) = *digest;
      return problem;
    }
    default:
      break;
  }
  // The four text fields: stream (1), type (3), actor (6), command_id (7).
  if ((problem.error = value.get_string().get(text))) return problem;
  std::string* target = index == 1 ? &out->stream : index == 3 ? &out->type : index == 6 ? &out->actor : &out->command_id;
  target->assign(text);
  return problem;
}

}  // namespace

void append_canonical_record(std::string& out, const EventRecord& record) {
  out += R"({"position":)";
  append_uint(out, record.position);
  out += R"(,"stream":)";
  json::append_string(out, record.stream);
  out += R"(,"version":)";
  append_uint(out, record.version);
  out += R"(,"type":)";
  json::append_string(out, record.type);
  out += R"(,"schema":)";
  append_sint(out, record.schema);
  out += R"(,"at":)";
  append_sint(out, record.at);
  out += R"(,"actor":)";
  json::append_string(out, record.actor);
  out += R"(,"command_id":)";
  json::append_string(out, record.command_id);
  out += R"(,"data":)";
  out += record.data;
  out += R"(,"prev_hash":")";
  append_hex(out, record.prev_hash);
  out += R"("})";
}

void RecordEncoder::encode(EventRecord& record, std::string& out) {
  assert(record.position > 0);
  assert(!record.data.empty() && record.data.front() == '{');
  out.clear();
  out.reserve(record.data.size() + record.stream.size() + record.type.size() + record.actor.size() +
              record.command_id.size() + 320);
  append_canonical_record(out, record);
  record.hash = chain_hash(sha_, record.prev_hash, record.position, out, {});
  out.pop_back();  // the canonical `}` gives way to the hash field
  out += hash_tail_open;
  append_hex(out, record.hash);
  out += hash_tail_close;
}

struct RecordDecoder::Parser {
  od::parser parser;
  std::unique_ptr<char[]> buffer;
  size_t buffer_capacity = 0;
};

RecordDecoder::RecordDecoder() : parser_(std::make_unique<Parser>()) {}
RecordDecoder::~RecordDecoder() = default;

Status RecordDecoder::decode(std::string_view stored, EventRecord* out) {
  assert(out != nullptr);
  if (stored.size() <= stored_record_bytes_max && parse_canonical_record(stored, out)) return Status::ok();
  return decode_json(stored, out);
}

Status RecordDecoder::decode(std::string_view stored, EventRecord* out, bool* canonical) {
  assert(out != nullptr && canonical != nullptr);
  if (stored.size() <= stored_record_bytes_max && parse_canonical_record(stored, out)) {
    *canonical = true;
    return Status::ok();
  }
  Status status = decode_json(stored, out);
  *canonical = status.is_ok() && is_canonical(stored, *out);
  return status;
}

Status RecordDecoder::decode_at(uint64_t position, std::string_view stored, EventRecord* out) {
  if (Status status = decode(stored, out); !status.is_ok()) {
    return Status::corruption(fmt::format("position {}: {}", position, status.message()));
  }
  if (out->position != position) {
    return Status::corruption(fmt::format("position {}: the key holds the record of position {}", position, out->position));
  }
  return Status::ok();
}

Status RecordDecoder::decode_json(std::string_view stored, EventRecord* out) {
  assert(out != nullptr);
  if (stored.size() > stored_record_bytes_max) {
    return Status::corruption(fmt::format("record of {} bytes is over the limit of {}", stored.size(), stored_record_bytes_max));
  }
  Parser& p = *parser_;
  const size_t needed = stored.size() + simdjson::SIMDJSON_PADDING;
  if (p.buffer_capacity < needed) {
    p.buffer_capacity = std::max(needed, size_t{4096});
    p.buffer = std::make_unique<char[]>(p.buffer_capacity);
  }
  std::memcpy(p.buffer.get(), stored.data(), stored.size());
  std::memset(p.buffer.get() + stored.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document document;
  if (auto error = p.parser.iterate(p.buffer.get(), stored.size(), p.buffer_capacity).get(document)) {
    return Status::corruption(fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  od::object object;
  if (auto error = document.get_object().get(object)) {
    return Status::corruption(fmt::format("not a JSON object: {}", simdjson::error_message(error)));
  }
  size_t index = 0;
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) {
      return Status::corruption(fmt::format("malformed JSON: {}", simdjson::error_message(error)));
    }
    if (index == record_field_count) return corrupt("a field after \"hash\"");
    if (!field.key().is_equal(record_field_names[index])) {
      return Status::corruption(fmt::format("field {} is not \"{}\"", index + 1, record_field_names[index]));
    }
    if (const FieldProblem problem = read_field(index, field.value(), out); !problem.ok()) return field_error(index, problem);
    ++index;
  }
  if (index != record_field_count) {
    return Status::corruption(fmt::format("missing field \"{}\"", record_field_names[index]));
  }
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) return corrupt("trailing content after the record");
  return Status::ok();
}

Digest RecordDecoder::compute_hash(std::string_view stored, const Digest& prev_hash, uint64_t position) {
  assert(stored.size() >= stored_hash_tail_bytes);
  return chain_hash(sha_, prev_hash, position, stored.substr(0, stored.size() - stored_hash_tail_bytes), "}");
}

bool RecordDecoder::is_canonical(std::string_view stored, const EventRecord& decoded) {
  scratch_.clear();
  append_canonical_record(scratch_, decoded);
  const std::string_view body = std::string_view(scratch_).substr(0, scratch_.size() - 1);
  if (stored.size() != body.size() + stored_hash_tail_bytes) return false;
  if (stored.substr(0, body.size()) != body) return false;
  const std::optional<Digest> hash = stored_hash_field(stored);
  return hash && *hash == decoded.hash;
}

bool is_valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

std::optional<Digest> stored_hash_field(std::string_view stored) {
  if (stored.size() < stored_hash_tail_bytes) return std::nullopt;
  const std::string_view tail = stored.substr(stored.size() - stored_hash_tail_bytes);
  if (tail.substr(0, hash_tail_open.size()) != hash_tail_open) return std::nullopt;
  if (tail.substr(tail.size() - hash_tail_close.size()) != hash_tail_close) return std::nullopt;
  return lower_hex_digest(tail.substr(hash_tail_open.size(), 64));
}

struct JsonObjectChecker::Parser {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buffer;
  size_t buffer_capacity = 0;
};

JsonObjectChecker::JsonObjectChecker() : parser_(std::make_unique<Parser>()) {}
JsonObjectChecker::~JsonObjectChecker() = default;

Status JsonObjectChecker::check(std::string_view text) {
  if (text.size() > event_data_bytes_max) {
    return Status::invalid_argument(fmt::format("data of {} bytes is over the limit of {}", text.size(), event_data_bytes_max));
  }
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    return Status::invalid_argument("data must be a JSON object with no whitespace around it");
  }
  if (is_canonical_json_object(text)) return Status::ok();  // the common case, checked by hand
  return check_json(text);
}

Status JsonObjectChecker::check_json(std::string_view text) {
  if (text.size() > event_data_bytes_max) {
    return Status::invalid_argument(fmt::format("data of {} bytes is over the limit of {}", text.size(), event_data_bytes_max));
  }
  Parser& p = *parser_;
  const size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
  if (p.buffer_capacity < needed) {
    p.buffer_capacity = std::max(needed, size_t{4096});
    p.buffer = std::make_unique<char[]>(p.buffer_capacity);
  }
  std::memcpy(p.buffer.get(), text.data(), text.size());
  std::memset(p.buffer.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  simdjson::dom::element root;
  if (auto error = p.parser.parse(p.buffer.get(), text.size(), false).get(root)) {
    return Status::invalid_argument(fmt::format("data is not valid JSON: {}", simdjson::error_message(error)));
  }
  if (!root.is_object()) return Status::invalid_argument("data must be a JSON object");
  return Status::ok();
}

}  // namespace tl
