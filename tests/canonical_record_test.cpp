// The hand reader of canonical records (engine/canonical_record.h) against the general JSON
// decoder: the same fields for every record the encoder writes, and every other form declined,
// so that RecordDecoder falls back and names the problem as before.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/canonical_record.h"
#include "engine/record_codec.h"

using namespace tl;

namespace {

EventRecord record_with(uint64_t position, std::string stream, int32_t schema, TimeMs at, std::string actor,
                        std::string data) {
  EventRecord record;
  record.position = position;
  record.stream = std::move(stream);
  record.version = 3;
  record.type = "PaymentCaptured";
  record.schema = schema;
  record.at = at;
  record.actor = std::move(actor);
  record.command_id = "cmd-9";
  record.data = std::move(data);
  record.prev_hash.fill(0xAB);
  return record;
}

std::string encode(EventRecord& record) {
  RecordEncoder encoder;
  std::string stored;
  encoder.encode(record, stored);
  return stored;
}

bool same_record(const EventRecord& a, const EventRecord& b) {
  return a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
         a.schema == b.schema && a.at == b.at && a.actor == b.actor && a.command_id == b.command_id &&
         a.data == b.data && a.prev_hash == b.prev_hash && a.hash == b.hash;
}

// Replaces the first `from` in `text` by `to`; the test fails if `from` is not there.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("EveryRecordTheEncoderWritesIsReadByHandAsTheJsonDecoderReadsIt") {
  const std::vector<EventRecord> records = {
      record_with(1, "booking-bk_1", 1, 1795000000000, "student:s1", R"({"booking_id":"bk_1"})"),
      record_with(1, "s", 0, 0, "system", "{}"),
      record_with(999999999999999999, "tutor-t", -2147483648, -1795000000000, "admin:a",
                  R"({"nested":{"list":[1,2,{"x":"}"}]},"text":"a \"quoted\" \\ value"})"),
      record_with(42, "booking-ä日本", 2147483647, 999999999999999999, "tutor:Ωmega", R"({"note":"tab\tline\n"})"),
  };
  for (EventRecord record : records) {
    const std::string stored = encode(record);
    CAPTURE(stored);
    EventRecord by_hand;
    REQUIRE(parse_canonical_record(stored, &by_hand));
    RecordDecoder decoder;
    EventRecord by_json;
    REQUIRE(decoder.decode_json(stored, &by_json).is_ok());
    CHECK(same_record(by_hand, record));
    CHECK(same_record(by_json, record));
    bool canonical = false;
    EventRecord decoded;
    REQUIRE(decoder.decode(stored, &decoded, &canonical).is_ok());
    CHECK(canonical);
    CHECK(same_record(decoded, record));
  }
}

TEST_CASE("TheHandReaderReusesTheStringsOfTheRecordItFills") {
  EventRecord first = record_with(5, "booking-a-long-stream-name-of-some-length", 1, 7, "student:s", R"({"a":1})");
  EventRecord second = record_with(6, "b", 1, 8, "system", R"({"b":2})");
  const std::string stored_first = encode(first);
  const std::string stored_second = encode(second);
  EventRecord out;
  REQUIRE(parse_canonical_record(stored_first, &out));
  const size_t capacity = out.stream.capacity();
  REQUIRE(parse_canonical_record(stored_second, &out));
  CHECK(out.stream == "b");
  CHECK(out.stream.capacity() == capacity);
  CHECK(same_record(out, second));
}

TEST_CASE("RecordsTheEncoderWritesWithEscapesOrLongNumbersFallBackAndAreStillCanonical") {
  EventRecord escaped = record_with(7, "booking-\"q\"", 1, 1, "student:back\\slash", "{}");
  EventRecord control = record_with(8, "s", 1, 1, "system", "{}");
  control.command_id = std::string("line\nbreak\x01", 11);
  EventRecord huge = record_with(18446744073709551615ULL, "s", 1, 1, "system", "{}");
  EventRecord far = record_with(9, "s", 1, -9223372036854775807LL - 1, "system", "{}");
  for (EventRecord* record : {&escaped, &control, &huge, &far}) {
    const std::string stored = encode(*record);
    CAPTURE(stored);
    EventRecord by_hand;
    CHECK_FALSE(parse_canonical_record(stored, &by_hand));
    RecordDecoder decoder;
    EventRecord decoded;
    bool canonical = false;
    REQUIRE(decoder.decode(stored, &decoded, &canonical).is_ok());
    CHECK(canonical);
    CHECK(same_record(decoded, *record));
  }
}

TEST_CASE("EveryNonCanonicalFormIsDeclinedByHandAndJudgedByTheJsonDecoder") {
  EventRecord record = record_with(12, "booking-bk_2", 1, 1795000000000, "tutor:t1", R"({"amount":5})");
  const std::string stored = encode(record);
  struct Variant {
    const char* what;
    std::string stored;
    bool json_decodes;  // the general decoder reads it (then it is not canonical)
  };
  const std::string hash_hex = stored.substr(stored.size() - 66, 64);
  std::string upper_hash = hash_hex;
  for (char& c : upper_hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::vector<Variant> variants = {
      {"a space after a colon", replaced(stored, R"("type":)", R"("type": )"), true},
      {"a space before the data", replaced(stored, R"("data":{)", R"("data": {)"), true},
      {"a newline at the end", stored + "\n", true},
      {"an escaped slash", replaced(stored, "booking-bk_2", R"(booking\/bk_2)"), true},
      {"a unicode escape of a printable character", replaced(stored, "tutor:t1", R"(tutor:\u00741)"), true},
      {"a leading zero", replaced(stored, R"("version":3)", R"("version":03)"), false},
      {"minus zero", replaced(stored, R"("schema":1)", R"("schema":-0)"), true},
      {"a plus sign", replaced(stored, R"("at":1)", R"("at":+1)"), false},
      {"an exponent", replaced(stored, R"("at":1795000000000)", R"("at":1795e9)"), false},
      {"a version over 32 bits", replaced(stored, R"("version":3)", R"("version":4294967296)"), false},
      {"a schema over 32 bits", replaced(stored, R"("schema":1)", R"("schema":2147483648)"), false},
      {"a raw control character", replaced(stored, "booking-bk_2", std::string("booking\x01", 8)), false},
      {"invalid UTF-8 in a text field", replaced(stored, "tutor:t1", "tutor:\xC3\x28"), false},
      {"upper-case hex", replaced(stored, hash_hex, upper_hash), false},
      {"data that is an array", replaced(stored, R"({"amount":5})", "[5]"), false},
      {"data that is a number", replaced(stored, R"({"amount":5})", "5"), false},
      {"fields swapped", replaced(stored, R"("type":"PaymentCaptured","schema":1)", R"("schema":1,"type":"PaymentCaptured")"), false},
      {"a short hash", replaced(stored, hash_hex, hash_hex.substr(1)), false},
      {"a missing hash field", stored.substr(0, stored.size() - 75) + "}", false},
      {"a truncated value", stored.substr(0, stored.size() - 1), false},
      {"an empty value", "", false},
  };
  RecordDecoder decoder;
  for (const Variant& variant : variants) {
    CAPTURE(variant.what);
    EventRecord by_hand;
    CHECK_FALSE(parse_canonical_record(variant.stored, &by_hand));
    EventRecord decoded;
    bool canonical = true;
    const Status status = decoder.decode(variant.stored, &decoded, &canonical);
    CHECK(status.is_ok() == variant.json_decodes);
    CHECK_FALSE(canonical);
    if (!status.is_ok()) CHECK(status.is_corruption());
  }
}

TEST_CASE("DataIsTakenUpToTheHashTailAndItsJsonIsLeftToItsReaders") {
  // A writer bug could store data that is not one JSON object but still starts with `{` and ends
  // with `}`. The hand reader takes it as it is (the JSON decoder would call the field after it
  // misplaced); the event codec and verify's JsonObjectChecker refuse it (log_verify_test shows
  // verify naming it).
  EventRecord record = record_with(3, "s", 1, 1, "system", R"({"a":1},"b":{})");
  const std::string stored = encode(record);
  EventRecord by_hand;
  REQUIRE(parse_canonical_record(stored, &by_hand));
  CHECK(by_hand.data == R"({"a":1},"b":{})");
  JsonObjectChecker checker;
  CHECK_FALSE(checker.check(by_hand.data).is_ok());
  RecordDecoder decoder;
  EventRecord by_json;
  CHECK(decoder.decode_json(stored, &by_json).is_corruption());
}
