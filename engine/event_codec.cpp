#include "engine/event_codec.h"

#include <array>
#include <cassert>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/canonical_cursor.h"
#include "projections/json_text.h"

namespace tl {
namespace {

namespace od = simdjson::ondemand;

// ---- encoding -------------------------------------------------------------------------------

class FieldWriter {
 public:
  explicit FieldWriter(std::string& out) : out_(out) {}

  template <class T>
  void operator()(std::string_view name, const T& value) {
    out_.push_back(first_ ? '{' : ',');
    first_ = false;
    json::append_key(out_, name);
    write(value);
  }
  void close() { out_ += first_ ? "{}" : "}"; }

 private:
  void write(const std::string& value) { json::append_string(out_, value); }
  void write(int64_t value) { json::append_int(out_, value); }
  void write(const Currency& value) { json::append_string(out_, value.code()); }
  void write(const Money& value) {
    out_ += "{\"amount\":";
    json::append_int(out_, value.amount);
    out_ += ",\"currency\":";
    json::append_string(out_, value.currency.code());
    out_.push_back('}');
  }
  void write(const std::vector<Posting>& postings) {
    out_.push_back('[');
    for (size_t i = 0; i < postings.size(); ++i) {
      if (i > 0) out_.push_back(',');
      FieldWriter nested(out_);
      Posting::fields(postings[i], nested);
      nested.close();
    }
    out_.push_back(']');
  }

  std::string& out_;
  bool first_ = true;
};

// ---- decoding -------------------------------------------------------------------------------

// Reads the fields of one JSON object in canonical order. The first problem sticks.
class FieldReader {
 public:
  explicit FieldReader(od::object object) : object_(object) {
    if (object_.begin().get(iterator_) != simdjson::SUCCESS || object_.end().get(end_) != simdjson::SUCCESS) {
      problem_ = "not an object";
    }
  }

  template <class T>
  void operator()(std::string_view name, T& value) {
    if (!problem_.empty()) return;
    if (!(iterator_ != end_)) {
      problem_ = fmt::format("missing field {}", name);
      return;
    }
    od::field field;
    std::string_view key;
    if ((*iterator_).get(field) != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) {
      problem_ = fmt::format("unreadable field before {}", name);
      return;
    }
    if (key != name) {
      problem_ = fmt::format("expected field {}, found {}", name, key);
      return;
    }
    if (!read(field.value(), value)) {
      if (problem_.empty()) problem_ = fmt::format("field {} has the wrong type", name);
      return;
    }
    ++iterator_;
  }

  // After the last field: nothing more may follow.
  std::string finish() {
    if (problem_.empty() && iterator_ != end_) problem_ = "unexpected extra field";
    return problem_;
  }

 private:
  bool read(od::value value, std::string& out) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return false;
    out.assign(text);
    return true;
  }
  bool read(od::value value, int64_t& out) { return value.get_int64().get(out) == simdjson::SUCCESS; }
  bool read(od::value value, Currency& out) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return false;
    auto currency = Currency::parse(text);
    if (!currency) return false;
    out = *currency;
    return true;
  }
  bool read(od::value value, Money& out) {
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return false;
    FieldReader nested(object);
    nested("amount", out.amount);
    nested("currency", out.currency);
    problem_ = nested.finish();
    return problem_.empty();
  }
  bool read(od::value value, std::vector<Posting>& out) {
    od::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return false;
    out.clear();
    for (auto element : array) {
      od::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) return false;
      Posting posting;
      FieldReader nested(object);
      Posting::fields(posting, nested);
      problem_ = nested.finish();
      if (!problem_.empty()) return false;
      out.push_back(std::move(posting));
    }
    return true;
  }

  od::object object_;
  od::object_iterator iterator_;
  od::object_iterator end_;
  std::string problem_;
};

// Reads the fields of one object in the canonical form FieldWriter writes, by hand: the fast
// path of decode_event_data (replay decodes every event of the log). The first thing out of
// that form (an escape, a long number, an unknown currency, anything wrong) stops it, and the
// caller starts again with FieldReader, which names the problem. UTF-8 is checked by the caller.
class CanonicalFieldReader {
 public:
  explicit CanonicalFieldReader(CanonicalCursor& cursor) : cursor_(cursor) { ok_ = cursor_.take('{'); }

  template <class T>
  void operator()(std::string_view name, T& value) {
    if (!ok_) return;
    ok_ = (first_ || cursor_.take(',')) && cursor_.take('"') && cursor_.literal(name) && cursor_.literal("\":") &&
          read(value);
    first_ = false;
  }

  // After the last field: the object's closing brace.
  bool finish() { return ok_ && cursor_.take('}'); }

 private:
  bool read(std::string& out) { return cursor_.take('"') && cursor_.plain_text(&out); }
  bool read(int64_t& out) { return cursor_.integer(&out); }
  bool read(Currency& out) {
    std::string_view code;
    if (!cursor_.take('"') || !cursor_.plain_text(&code)) return false;
    const std::optional<Currency> currency = Currency::parse(code);
    if (!currency) return false;
    out = *currency;
    return true;
  }
  bool read(Money& out) {
    CanonicalFieldReader nested(cursor_);
    nested("amount", out.amount);
    nested("currency", out.currency);
    return nested.finish();
  }
  bool read(std::vector<Posting>& out) {
    out.clear();
    if (!cursor_.take('[')) return false;
    if (cursor_.take(']')) return true;
    do {
      Posting& posting = out.emplace_back();
      CanonicalFieldReader nested(cursor_);
      Posting::fields(posting, nested);
      if (!nested.finish()) return false;
    } while (cursor_.take(','));
    return cursor_.take(']');
  }

  CanonicalCursor& cursor_;
  bool ok_ = false;
  bool first_ = true;
};

// True when `data` is the canonical encoding of an `Event` and was read into `event`.
template <class Typed>
bool read_canonical_fields(std::string_view data, Typed& event) {
  if (!simdjson::validate_utf8(data.data(), data.size())) return false;
  CanonicalCursor cursor(data);
  CanonicalFieldReader reader(cursor);
  Typed::fields(event, reader);
  return reader.finish() && cursor.at_end();
}

// Default-constructs the EventData alternative whose name is `type`.
template <size_t... I>
bool make_alternative(std::string_view type, EventData* out, std::index_sequence<I...>) {
  return ((std::variant_alternative_t<I, EventData>::name == type ? (out->emplace<I>(), true) : false) || ...);
}

struct DecoderBuffers {
  od::parser parser;
  std::string padded;
};

DecoderBuffers& thread_decoder() {
  thread_local DecoderBuffers buffers;
  return buffers;
}

// The general decoder of one event's data: names the first problem it meets.
template <class Typed>
Status decode_fields_json(std::string_view type, std::string_view data, Typed& event) {
  DecoderBuffers& buffers = thread_decoder();
  buffers.padded.assign(data);
  buffers.padded.resize(data.size() + simdjson::SIMDJSON_PADDING);
  od::document document;
  if (buffers.parser.iterate(buffers.padded.data(), data.size(), buffers.padded.size()).get(document) !=
      simdjson::SUCCESS) {
    return Status::corruption(fmt::format("{} data is not JSON", type));
  }
  od::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return Status::corruption(fmt::format("{} data is not an object", type));
  }
  FieldReader reader(object);
  Typed::fields(event, reader);
  std::string problem = reader.finish();
  // In simdjson 3.0.1 a document that was read to its end reports OUT_OF_BOUNDS here.
  const char* location = nullptr;
  if (problem.empty() && document.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
    problem = "trailing bytes after the object";
  }
  if (!problem.empty()) return Status::corruption(fmt::format("{} data: {}", type, problem));
  return Status::ok();
}

// Canonical data is read by hand; anything else (or damage) by the general decoder.
template <class Typed>
Status decode_fields(std::string_view type, std::string_view data, Typed& event) {
  if (read_canonical_fields(data, event)) return Status::ok();
  return decode_fields_json(type, data, event);
}

// PaymentRejected as schema 1 wrote it, before the provider's amount and currency were kept.
struct PaymentRejectedSchema1 {
  static constexpr std::string_view name = PaymentRejected::name;
  std::string booking_id;
  std::string tx_ref;
  std::string reference;
  std::string reason;
  template <class Self, class Visit> static void fields(Self& self, Visit& visit) {
    visit("booking_id", self.booking_id);
    visit("tx_ref", self.tx_ref);
    visit("reference", self.reference);
    visit("reason", self.reason);
  }
};

}  // namespace

std::string encode_event_data(const EventData& data) {
  std::string out;
  out.reserve(192);
  std::visit(
      [&out](const auto& event) {
        FieldWriter writer(out);
        std::decay_t<decltype(event)>::fields(event, writer);
        writer.close();
      },
      data);
  return out;
}

NewEvent make_new_event(const EventData& data, const Actor& actor, TimeMs at, std::string_view command_id) {
  NewEvent event;
  event.type = std::string(event_name(data));
  event.schema = event_schema_current;
  event.at = at;
  event.actor = actor_text(actor);
  event.command_id = std::string(command_id);
  event.data = encode_event_data(data);
  return event;
}

EventRecord placed_record(const NewEvent& event, uint64_t position, std::string_view stream, uint32_t version) {
  EventRecord record;
  record.position = position;
  record.stream = std::string(stream);
  record.version = version;
  record.type = event.type;
  record.schema = event.schema;
  record.at = event.at;
  record.actor = event.actor;
  record.command_id = event.command_id;
  record.data = event.data;
  return record;
}

Status decode_event_data(std::string_view type, std::string_view data, EventData* out) {
  return decode_event_data(type, event_schema_current, data, out);
}

Status decode_event_data(std::string_view type, int32_t schema, std::string_view data, EventData* out) {
  if (schema != event_schema_current && schema != event_schema_first) {
    return Status::corruption(fmt::format("unknown schema {}", schema));
  }
  if (schema == event_schema_first && type == PaymentRejectedSchema1::name) {
    PaymentRejectedSchema1 old;
    if (Status status = decode_fields(type, data, old); !status.is_ok()) return status;
    *out = PaymentRejected{std::move(old.booking_id), std::move(old.tx_ref), std::move(old.reference),
                           std::move(old.reason), {}, {}};
    return Status::ok();
  }
  if (!make_alternative(type, out, std::make_index_sequence<std::variant_size_v<EventData>>{})) {
    return Status::corruption(fmt::format("unknown event type {}", type));
  }
  return std::visit([&](auto& event) { return decode_fields(type, data, event); }, *out);
}

Status decode_event_data_json(std::string_view type, std::string_view data, EventData* out) {
  if (!make_alternative(type, out, std::make_index_sequence<std::variant_size_v<EventData>>{})) {
    return Status::corruption(fmt::format("unknown event type {}", type));
  }
  return std::visit([&](auto& event) { return decode_fields_json(type, data, event); }, *out);
}

Status decode_event(const EventRecord& record, Event* out) {
  auto actor = parse_actor(record.actor);
  if (!actor) return Status::corruption(fmt::format("position {}: bad actor {}", record.position, record.actor));
  out->position = record.position;
  out->stream = record.stream;
  out->version = record.version;
  out->at = record.at;
  out->actor = std::move(*actor);
  out->command_id = record.command_id;
  Status status = decode_event_data(record.type, record.schema, record.data, &out->data);
  if (!status.is_ok()) return Status::corruption(fmt::format("position {}: {}", record.position, status.message()));
  return Status::ok();
}

}  // namespace tl
