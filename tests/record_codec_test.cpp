// The canonical record encoding, its hash and the stored value (engine/FORMAT.md).
#include <doctest/doctest.h>

#include <string>

#include "engine/big_endian.h"
#include "engine/checkpoint_codec.h"
#include "engine/idempotency_codec.h"
#include "engine/record_codec.h"
#include "engine/sha256.h"

using namespace tl;

namespace {

EventRecord example_record() {
  EventRecord record;
  record.position = 1;
  record.stream = "booking-bk_1";
  record.version = 1;
  record.type = "BookingRequested";
  record.schema = 1;
  record.at = 1795000000000;
  record.actor = "student:s1";
  record.command_id = "cmd-7";
  record.data = R"({"booking_id":"bk_1","price":{"amount":35000,"currency":"ETB"}})";
  return record;
}

const std::string example_canonical =
    R"({"position":1,"stream":"booking-bk_1","version":1,"type":"BookingRequested","schema":1,)"
    R"("at":1795000000000,"actor":"student:s1","command_id":"cmd-7",)"
    R"("data":{"booking_id":"bk_1","price":{"amount":35000,"currency":"ETB"}},)"
    R"("prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"})";

// The same hash, computed the way an outside auditor would from the documented definition.
Digest reference_hash(const Digest& prev_hash, uint64_t position, const std::string& canonical) {
  std::string input(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
  append_u64_be(input, position);
  input += canonical;
  return sha256(input);
}

std::string encode(EventRecord& record) {
  RecordEncoder encoder;
  std::string stored;
  encoder.encode(record, stored);
  return stored;
}

}  // namespace

TEST_CASE("CanonicalBytesFollowTheDocumentedFieldOrderWithoutWhitespace") {
  std::string canonical;
  append_canonical_record(canonical, example_record());
  CHECK(canonical == example_canonical);
}

TEST_CASE("HashIsSha256OfPrevHashPositionAndCanonicalBytes") {
  EventRecord record = example_record();
  const std::string stored = encode(record);
  CHECK(record.hash == reference_hash(Digest{}, 1, example_canonical));
  // Pinned so that engine/FORMAT.md's example stays true.
  CHECK(to_hex(record.hash) == "69e383bb19ca7f1dc6eec39ea8fbcbeec8695d2eeeff35c0acd96799b25bbd4a");
}

TEST_CASE("StoredValueIsCanonicalBytesWithTheHashFieldBeforeTheClosingBrace") {
  EventRecord record = example_record();
  const std::string stored = encode(record);
  const std::string expected = example_canonical.substr(0, example_canonical.size() - 1) + R"(,"hash":")" +
                               to_hex(record.hash) + R"("})";
  CHECK(stored == expected);
  CHECK(stored_hash_field(stored) == record.hash);
}

TEST_CASE("StoredValueDecodesToTheSameRecord") {
  EventRecord record = example_record();
  record.position = 42;
  record.version = 7;
  record.schema = -3;
  record.at = -1;
  record.prev_hash = sha256("previous");
  const std::string stored = encode(record);
  RecordDecoder decoder;
  EventRecord decoded;
  REQUIRE(decoder.decode(stored, &decoded).is_ok());
  CHECK(decoded.position == 42);
  CHECK(decoded.stream == record.stream);
  CHECK(decoded.version == 7);
  CHECK(decoded.type == record.type);
  CHECK(decoded.schema == -3);
  CHECK(decoded.at == -1);
  CHECK(decoded.actor == record.actor);
  CHECK(decoded.command_id == record.command_id);
  CHECK(decoded.data == record.data);
  CHECK(decoded.prev_hash == record.prev_hash);
  CHECK(decoded.hash == record.hash);
  CHECK(decoder.is_canonical(stored, decoded));
  CHECK(decoder.compute_hash(stored, decoded.prev_hash, 42) == record.hash);
}

TEST_CASE("DecodeAtNamesThePositionOfTheKeyAndRefusesARecordOfAnother") {
  EventRecord record = example_record();
  record.position = 7;
  const std::string stored = encode(record);
  RecordDecoder decoder;
  EventRecord decoded;
  REQUIRE(decoder.decode_at(7, stored, &decoded).is_ok());
  CHECK(decoded.position == 7);
  const Status moved = decoder.decode_at(8, stored, &decoded);
  CHECK(moved.is_corruption());
  CHECK(moved.message() == "position 8: the key holds the record of position 7");
  const Status damaged = decoder.decode_at(8, stored.substr(1), &decoded);
  CHECK(damaged.is_corruption());
  CHECK(damaged.message().starts_with("position 8: "));
}

TEST_CASE("QuotesBackslashesControlCharactersAndUtf8RoundTrip") {
  EventRecord record = example_record();
  record.stream = std::string("booking-\"q\"\\b\x01\x1f\x7f", 17);
  record.type = "Type\twith\nnewline\r\b\f";
  record.actor = "tutor:\xe1\x8a\xa0\xe1\x88\x9b\xe1\x88\xad\xe1\x8a\x9b";  // Amharic
  record.command_id = std::string("nul\0inside", 10);
  record.data = R"({"note":"caf\u00e9 \"quoted\" \\ back","emoji":"😀"})";
  const std::string stored = encode(record);
  RecordDecoder decoder;
  EventRecord decoded;
  REQUIRE(decoder.decode(stored, &decoded).is_ok());
  CHECK(decoded.stream == record.stream);
  CHECK(decoded.type == record.type);
  CHECK(decoded.actor == record.actor);
  CHECK(decoded.command_id == record.command_id);
  CHECK(decoded.data == record.data);
  CHECK(decoder.is_canonical(stored, decoded));
  CHECK(decoder.compute_hash(stored, decoded.prev_hash, decoded.position) == record.hash);
}

TEST_CASE("DecoderIsReusedAcrossRecordsOfDifferentSizes") {
  RecordDecoder decoder;
  EventRecord decoded;
  for (size_t size : {10u, 5000u, 3u, 70000u, 1u}) {
    EventRecord record = example_record();
    record.data = R"({"pad":")" + std::string(size, 'x') + R"("})";
    const std::string stored = encode(record);
    REQUIRE(decoder.decode(stored, &decoded).is_ok());
    CHECK(decoded.data == record.data);
  }
}

TEST_CASE("AnyChangeToAStoredValueIsCorruptionOrAChangedHash") {
  EventRecord record = example_record();
  const std::string stored = encode(record);
  RecordDecoder decoder;
  for (size_t offset = 0; offset < stored.size(); ++offset) {
    std::string damaged = stored;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x01);
    EventRecord decoded;
    const Status status = decoder.decode(damaged, &decoded);
    if (!status.is_ok()) {
      CHECK(status.is_corruption());
      continue;
    }
    // It still parses: then it is not canonical, or it hashes differently, or the hash field changed.
    const bool caught = !decoder.is_canonical(damaged, decoded) ||
                        decoder.compute_hash(damaged, decoded.prev_hash, decoded.position) != decoded.hash;
    INFO("offset " << offset);
    CHECK(caught);
  }
}

TEST_CASE("FieldsOutOfOrderMissingOrExtraAreCorruption") {
  RecordDecoder decoder;
  EventRecord decoded;
  EventRecord record = example_record();
  const std::string stored = encode(record);
  const std::string hash_field = stored.substr(stored.size() - stored_hash_tail_bytes);

  std::string swapped = stored;
  swapped.replace(swapped.find(R"("stream":"booking-bk_1","version":1)"), 35, R"("version":1,"stream":"booking-bk_1")");
  CHECK(decoder.decode(swapped, &decoded).message().find("field 2 is not \"stream\"") != std::string::npos);

  std::string missing = stored.substr(0, stored.size() - stored_hash_tail_bytes) + "}";
  CHECK(decoder.decode(missing, &decoded).message().find("missing field \"hash\"") != std::string::npos);

  std::string extra = stored.substr(0, stored.size() - 1) + R"(,"extra":1})";
  CHECK(decoder.decode(extra, &decoded).message().find("after \"hash\"") != std::string::npos);

  CHECK(decoder.decode(stored + " {}", &decoded).is_corruption());
  CHECK(decoder.decode("[1,2]", &decoded).is_corruption());
  CHECK(decoder.decode("", &decoded).is_corruption());
  CHECK(decoder.decode(stored.substr(0, stored.size() / 2), &decoded).is_corruption());
}

TEST_CASE("NonIntegerNumbersAndUpperCaseHexAreCorruption") {
  RecordDecoder decoder;
  EventRecord decoded;
  EventRecord record = example_record();
  const std::string stored = encode(record);
  std::string fractional = stored;
  fractional.replace(fractional.find(R"("position":1)"), 12, R"("position":1.0)");
  CHECK(decoder.decode(fractional, &decoded).is_corruption());
  std::string negative = stored;
  negative.replace(negative.find(R"("version":1)"), 11, R"("version":-1)");
  CHECK(decoder.decode(negative, &decoded).is_corruption());
  std::string upper = stored;
  const size_t hex = upper.find(R"("hash":")") + 8;
  for (size_t i = hex; i < hex + 64; ++i) upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  if (upper != stored) CHECK(decoder.decode(upper, &decoded).is_corruption());
}

TEST_CASE("LowerHexDigestTakesExactlySixtyFourLowerCaseHexDigits") {
  // Every byte value at every position: a digit or a-f reads as its value, anything else refuses
  // the whole digest. The reference is the case-blind digest_from_hex, on lower-case text.
  Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<uint8_t>(37 * i + 11);
  const std::string text = to_hex(digest);
  REQUIRE(lower_hex_digest(text) == digest);
  const auto is_lower_hex = [](int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  size_t accepted = 0;
  for (size_t at = 0; at < text.size(); ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string changed = text;
      changed[at] = static_cast<char>(c);
      const std::optional<Digest> parsed = lower_hex_digest(changed);
      CAPTURE(at);
      CAPTURE(c);
      REQUIRE(parsed.has_value() == is_lower_hex(c));
      if (parsed) {
        REQUIRE(*parsed == *digest_from_hex(changed));
        ++accepted;
      }
    }
  }
  CHECK(accepted == 64 * 16);
  for (int value = 0; value < 256; ++value) {  // each byte value in each place of a pair
    Digest same{};
    same.fill(static_cast<uint8_t>(value));
    CHECK(lower_hex_digest(to_hex(same)) == same);
  }
  CHECK_FALSE(lower_hex_digest(text.substr(1)).has_value());
  CHECK_FALSE(lower_hex_digest(text + "0").has_value());
  CHECK_FALSE(lower_hex_digest("").has_value());
}

TEST_CASE("WhitespaceDecodesButIsNotCanonical") {
  RecordDecoder decoder;
  EventRecord decoded;
  EventRecord record = example_record();
  std::string spaced = encode(record);
  spaced.replace(spaced.find(R"("type":)"), 7, R"("type": )");
  REQUIRE(decoder.decode(spaced, &decoded).is_ok());
  CHECK_FALSE(decoder.is_canonical(spaced, decoded));
  std::string escaped = encode(record);
  escaped.replace(escaped.find("student"), 7, "\\u0073tudent");
  REQUIRE(decoder.decode(escaped, &decoded).is_ok());
  CHECK(decoded.actor == "student:s1");
  CHECK_FALSE(decoder.is_canonical(escaped, decoded));
}

TEST_CASE("DataThatIsNotOneJsonObjectIsRefused") {
  JsonObjectChecker checker;
  CHECK(checker.check("{}").is_ok());
  CHECK(checker.check(R"({"a":[1,{"b":null}],"c":"\u00e9"})").is_ok());
  for (const char* bad : {"", "[]", "\"text\"", "42", "null", " {}", "{} ", "{\"a\":1", "{\"a\":tru}", "{\"a\":1}{}",
                          "{\"a\":[1,2}}", "{'a':1}"}) {
    INFO(bad);
    CHECK(checker.check(bad).code() == Status::Code::invalid_argument);
  }
  CHECK(checker.check("{\"a\":\"\xff\"}").code() == Status::Code::invalid_argument);  // not UTF-8
}

TEST_CASE("StoredHashFieldNeedsTheExactTail") {
  EventRecord record = example_record();
  const std::string stored = encode(record);
  CHECK(stored_hash_field(stored) == record.hash);
  CHECK_FALSE(stored_hash_field(stored.substr(0, stored.size() - 1)).has_value());
  CHECK_FALSE(stored_hash_field("short").has_value());
}

TEST_CASE("IdempotencyValueRoundTrips") {
  IdempotencyRecord record;
  record.request_hash = sha256("POST /api/bookings {}");
  record.status = 201;
  record.body = std::string("{\"id\":\"bk_1\"}\0binary", 20);
  record.position = 0x0102030405060708ull;
  record.decided_at = 1'795'000'000'123;
  const std::string value = encode_idempotency_value(record);
  CHECK(value.size() == idempotency_header_bytes + record.body.size());
  const std::optional<IdempotencyRecord> decoded = decode_idempotency_value(value);
  REQUIRE(decoded.has_value());
  CHECK(decoded->request_hash == record.request_hash);
  CHECK(decoded->status == 201);
  CHECK(decoded->body == record.body);
  CHECK(decoded->position == record.position);
  CHECK(decoded->decided_at == record.decided_at);
  CHECK(idempotency_decided_at(value) == record.decided_at);
  record.status = -1;
  CHECK(decode_idempotency_value(encode_idempotency_value(record))->status == -1);
  CHECK_FALSE(decode_idempotency_value(value.substr(0, idempotency_header_bytes - 1)).has_value());
  std::string other_format = value;
  other_format[0] = 3;
  CHECK_FALSE(decode_idempotency_value(other_format).has_value());
  CHECK_FALSE(idempotency_decided_at(other_format).has_value());
}

TEST_CASE("AnIdempotencyValueOfFormatOneIsReadWithoutADecisionTime") {
  // Format 1 (before records expired): the same header without decided_at.
  std::string value(1, '\x01');
  value.append(32, '\xab');
  value.append({'\0', '\0', '\x01', '\xc9'});                      // status 457
  value.append({'\0', '\0', '\0', '\0', '\0', '\0', '\0', '\x07'});  // position 7
  value.append(R"({"ok":true})");
  const std::optional<IdempotencyRecord> decoded = decode_idempotency_value(value);
  REQUIRE(decoded.has_value());
  CHECK(decoded->status == 457);
  CHECK(decoded->position == 7);
  CHECK(decoded->body == R"({"ok":true})");
  CHECK_FALSE(decoded->decided_at.has_value());
  CHECK_FALSE(idempotency_decided_at(value).has_value());
  CHECK_FALSE(decode_idempotency_value(value.substr(0, idempotency_header_bytes_without_time - 1)).has_value());
}

TEST_CASE("CheckpointHeaderRoundTripsAndRefusesSizesThatDoNotAddUp") {
  CheckpointHeader header;
  header.generation = 3;
  header.position = 99;
  header.log_hash = sha256("log");
  header.state_hash = sha256("state");
  header.payload_bytes = 10;
  header.chunk_bytes = 4;
  header.chunk_count = 3;
  header.payload_sha256 = sha256("payload");
  const std::string bytes = encode_checkpoint_header(header);
  CHECK(bytes.size() == checkpoint_header_bytes);
  const std::optional<CheckpointHeader> decoded = decode_checkpoint_header(bytes);
  REQUIRE(decoded.has_value());
  CHECK(decoded->generation == 3);
  CHECK(decoded->position == 99);
  CHECK(decoded->log_hash == header.log_hash);
  CHECK(decoded->state_hash == header.state_hash);
  CHECK(decoded->payload_bytes == 10);
  CHECK(decoded->chunk_bytes == 4);
  CHECK(decoded->chunk_count == 3);
  CHECK(decoded->payload_sha256 == header.payload_sha256);
  header.chunk_count = 2;
  CHECK_FALSE(decode_checkpoint_header(encode_checkpoint_header(header)).has_value());
  CHECK_FALSE(decode_checkpoint_header(bytes.substr(1)).has_value());
  CHECK(checkpoint_chunk_key(1, 0) < checkpoint_chunk_key(1, 1));
  CHECK(checkpoint_chunk_key(1, 0xFFFFFFFF) < checkpoint_chunk_key_floor(2));
}
