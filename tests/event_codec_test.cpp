#include <doctest/doctest.h>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

TEST_CASE("EventDataIsCanonicalJsonInDeclaredFieldOrder") {
  const EventData data = PaymentCaptured{"bk_1", "tx-bk_1", "chapa-9", etb_amount(35000),
                                         {Posting{"external:psp", "escrow:bk_1", 35000, etb()}}};
  CHECK(encode_event_data(data) ==
        R"({"booking_id":"bk_1","tx_ref":"tx-bk_1","reference":"chapa-9","amount":{"amount":35000,"currency":"ETB"},)"
        R"("postings":[{"debit":"external:psp","credit":"escrow:bk_1","amount":35000,"currency":"ETB"}]})");
  CHECK(encode_event_data(SessionJoined{"bk_1"}) == R"({"booking_id":"bk_1"})");
}

TEST_CASE("TrickyStringsRoundTripThroughTheCodec") {
  const std::string tricky = std::string("quote\" backslash\\ newline\n tab\t nul") + '\0' +
                             " ctrl\x1f del\x7f amharic \xe1\x8a\xa0\xe1\x88\x9b emoji \xf0\x9f\x93\x9a";
  const EventData data = SessionEnded{"bk_1", 1795514400000, tricky, 3600, "ended"};
  EventData decoded;
  REQUIRE(decode_event_data("SessionEnded", encode_event_data(data), &decoded).is_ok());
  CHECK(std::get<SessionEnded>(decoded).notes == tricky);
  CHECK(encode_event_data(decoded) == encode_event_data(data));
}

TEST_CASE("DecodingIsStrictAboutFieldsOrderTypesAndTrailingBytes") {
  EventData out;
  CHECK(decode_event_data("BookingAccepted", R"({"booking_id":"bk_1"})", &out).is_ok());
  for (const char* bad : {
           R"({})",                                       // missing field
           R"({"booking_id":"bk_1","extra":1})",          // extra field
           R"({"booking_id":7})",                         // wrong type
           R"({"booking_id":"bk_1"} x)",                  // trailing bytes
           R"({"booking_id":"bk_1"}{})",                  // a second document
           R"([])",                                       // not an object
           R"({"booking_id":"bk_1")",                     // truncated
           R"(nope)",
       }) {
    CAPTURE(bad);
    CHECK(decode_event_data("BookingAccepted", bad, &out).is_corruption());
  }
  CHECK(decode_event_data("EscrowHeld", R"({"amount":{"amount":1,"currency":"ETB"},"booking_id":"bk_1"})", &out)
            .is_corruption());  // fields out of order
  CHECK(decode_event_data("EscrowHeld", R"({"booking_id":"bk_1","amount":{"amount":1.5,"currency":"ETB"}})", &out)
            .is_corruption());  // no floating point
  CHECK(decode_event_data("EscrowHeld", R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"XYZ"}})", &out)
            .is_corruption());  // unknown currency
  CHECK(decode_event_data("NoSuchEvent", R"({})", &out).is_corruption());
}

TEST_CASE("EveryEventTypeRoundTripsWithItsEnvelope") {
  // Each alternative, default-constructed with a valid currency where it holds money.
  std::vector<EventData> all;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (all.push_back(std::variant_alternative_t<I, EventData>{}), ...);
  }(std::make_index_sequence<std::variant_size_v<EventData>>{});
  for (auto& data : all) {
    std::visit(
        [](auto& e) {
          if constexpr (requires { e.price; }) e.price = etb_amount(1);
          if constexpr (requires { e.amount.currency; }) e.amount = etb_amount(2);
        },
        data);
    CAPTURE(event_name(data));
    const NewEvent placed = make_new_event(data, tutor("t9"), 42, "cmd-1");
    const EventRecord record = placed_record(placed, 7, "booking-x", 3);
    Event event;
    REQUIRE(decode_event(record, &event).is_ok());
    CHECK(event.actor == tutor("t9"));
    CHECK(event.at == 42);
    CHECK(event.position == 7);
    CHECK(event.data.index() == data.index());
    CHECK(encode_event_data(event.data) == placed.data);
  }
}

namespace {

// A record as the log would hand it to decode_event (hashes and version left unset).
EventRecord stored_record(uint64_t position, std::string type, std::string actor, int32_t schema, std::string data) {
  EventRecord record;
  record.position = position;
  record.type = std::move(type);
  record.actor = std::move(actor);
  record.schema = schema;
  record.data = std::move(data);
  return record;
}

}  // namespace

TEST_CASE("RecordsWithAnUnknownSchemaOrActorAreCorruption") {
  EventRecord record = stored_record(1, "BookingAccepted", "system", 0, R"({"booking_id":"b"})");
  Event event;
  for (const int32_t schema : {0, 3, -1}) {
    record.schema = schema;
    const Status decoded = decode_event(record, &event);
    CHECK(decoded.is_corruption());
    CHECK(decoded.message() == fmt::format("position 1: unknown schema {}", schema));
  }
  record.schema = 1;
  record.actor = "wizard:x";
  CHECK(decode_event(record, &event).is_corruption());
  record.actor = "student:";
  CHECK(decode_event(record, &event).is_corruption());
}

TEST_CASE("EventsAreWrittenInSchemaTwoAndSchemaOneIsStillRead") {
  const NewEvent written = make_new_event(BookingAccepted{"b"}, Actor{Role::tutor, "t1"}, 1, "c");
  CHECK(written.schema == 2);
  EventRecord record = stored_record(7, "BookingAccepted", "tutor:t1", 1, R"({"booking_id":"b"})");
  Event event;
  for (const int32_t schema : {1, 2}) {  // an event schema 2 did not change reads the same in both
    record.schema = schema;
    REQUIRE(decode_event(record, &event).is_ok());
    CHECK(std::get<BookingAccepted>(event.data).booking_id == "b");
  }
}

TEST_CASE("APaymentRejectedOfSchemaOneIsUpcastWithoutTheProvidersAmount") {
  EventRecord record = stored_record(9, "PaymentRejected", "system", 1,
                                     R"({"booking_id":"bk_1","tx_ref":"tl-bk_1","reference":"ch_1","reason":"amount_mismatch"})");
  Event event;
  REQUIRE(decode_event(record, &event).is_ok());
  const auto& upcast = std::get<PaymentRejected>(event.data);
  CHECK(upcast.booking_id == "bk_1");
  CHECK(upcast.tx_ref == "tl-bk_1");
  CHECK(upcast.reference == "ch_1");
  CHECK(upcast.reason == "amount_mismatch");
  CHECK(upcast.provider_amount.empty());
  CHECK(upcast.provider_currency.empty());
  // Not canonical (another field order, spaces): the general decoder upcasts it the same way.
  record.data = R"({ "booking_id":"bk_1", "tx_ref":"tl-bk_1", "reference":"ch_1", "reason":"amount_mismatch" })";
  REQUIRE(decode_event(record, &event).is_ok());
  CHECK(std::get<PaymentRejected>(event.data).reason == "amount_mismatch");
  // Schema 1's layout is not schema 2's: the fields one lacks or the other adds are damage.
  record.schema = 2;
  const Status missing = decode_event(record, &event);
  CHECK(missing.is_corruption());
  CHECK(missing.message().find("position 9: PaymentRejected data") == 0);
  const PaymentRejected current{"bk_1", "tl-bk_1", "ch_1", "amount_mismatch", "349.00", "ETB"};
  record.data = encode_event_data(current);
  CHECK(record.data ==
        R"({"booking_id":"bk_1","tx_ref":"tl-bk_1","reference":"ch_1","reason":"amount_mismatch","provider_amount":"349.00","provider_currency":"ETB"})");
  REQUIRE(decode_event(record, &event).is_ok());
  CHECK(std::get<PaymentRejected>(event.data).provider_amount == "349.00");
  CHECK(std::get<PaymentRejected>(event.data).provider_currency == "ETB");
  record.schema = 1;
  const Status extra = decode_event(record, &event);
  CHECK(extra.is_corruption());
  CHECK(extra.message().find("unexpected extra field") != std::string::npos);
}

namespace {

// Gives every field of an event a value of its type, varied by a counter so that negative, zero
// and long numbers, non-ASCII text and several postings all occur across the types.
struct FieldFiller {
  int counter = 0;
  void operator()(std::string_view name, std::string& value) { value = std::string(name) + "-v\xc3\xa5l-" + std::to_string(counter++); }
  void operator()(std::string_view, int64_t& value) {
    static constexpr int64_t samples[] = {0, -5, 123456789012345678, 1795000000000, -999999999999999999};
    value = samples[counter++ % 5];
  }
  void operator()(std::string_view, Currency& value) { value = etb(); }
  void operator()(std::string_view, Money& value) { value = Money{35000 + counter++, etb()}; }
  void operator()(std::string_view, std::vector<Posting>& value) {
    value = {Posting{"external:psp", "escrow:bk_1", 35000, etb()}, Posting{"escrow:bk_1", "fees", -1, etb()}};
  }
};

std::vector<EventData> every_type_filled() {
  std::vector<EventData> all;
  [&]<size_t... I>(std::index_sequence<I...>) {
    (all.push_back(std::variant_alternative_t<I, EventData>{}), ...);
  }(std::make_index_sequence<std::variant_size_v<EventData>>{});
  FieldFiller filler;
  for (EventData& data : all) {
    std::visit([&](auto& event) { std::decay_t<decltype(event)>::fields(event, filler); }, data);
  }
  return all;
}

// Both decoders on `text`: the same verdict, and the same event when they read it.
void check_decoders_agree(std::string_view type, std::string_view text) {
  CAPTURE(type);
  CAPTURE(text);
  EventData fast;
  EventData general;
  const Status fast_status = decode_event_data(type, text, &fast);
  const Status general_status = decode_event_data_json(type, text, &general);
  REQUIRE(fast_status.is_ok() == general_status.is_ok());
  if (fast_status.is_ok()) {
    CHECK(encode_event_data(fast) == encode_event_data(general));
  } else {
    CHECK(fast_status.message() == general_status.message());  // the general decoder names the problem
  }
}

}  // namespace

TEST_CASE("CanonicalDataOfEveryTypeIsReadByHandAsTheJsonDecoderReadsIt") {
  for (const EventData& data : every_type_filled()) {
    const std::string text = encode_event_data(data);
    EventData decoded;
    REQUIRE(decode_event_data(event_name(data), text, &decoded).is_ok());
    CHECK(encode_event_data(decoded) == text);
    check_decoders_agree(event_name(data), text);
  }
}

TEST_CASE("DataOutOfTheCanonicalFormFallsBackToTheJsonDecoder") {
  const std::string type = "EscrowHeld";
  const std::string canonical = R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"ETB"}})";
  check_decoders_agree(type, canonical);
  for (const std::string& text : {
           std::string(R"({ "booking_id":"bk_1","amount":{"amount":1,"currency":"ETB"}})"),            // whitespace
           std::string(R"({"booking_id":"bk\u005f1","amount":{"amount":1,"currency":"ETB"}})"),        // an escape
           std::string(R"({"booking_id":"bk_1","amount":{"amount":9223372036854775807,"currency":"ETB"}})"),  // 19 digits
           std::string(R"({"booking_id":"bk_1","amount":{"amount":-0,"currency":"ETB"}})"),            // minus zero
           std::string(R"({"booking_id":"bk_1","amount":{"amount":01,"currency":"ETB"}})"),            // a leading zero
           std::string(R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"XYZ"}})"),             // no such currency
           std::string(R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"ETB"}} )"),            // trailing space
           std::string(R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"ETB"}}x)"),            // trailing byte
           std::string(R"({"booking_id":"bk_1","amount":{"amount":1,"currency":"ETB"})"),              // truncated
           std::string(R"({"booking_id":"bk_1","amount":{"currency":"ETB","amount":1}})"),             // out of order
           std::string("{\"booking_id\":\"bk_\xC3\x28\",\"amount\":{\"amount\":1,\"currency\":\"ETB\"}}"),  // bad UTF-8
           std::string("{\"booking_id\":\"bk\x01\",\"amount\":{\"amount\":1,\"currency\":\"ETB\"}}"),       // raw control
       }) {
    check_decoders_agree(type, text);
  }
  const std::string postings_type = "PaymentCaptured";
  const std::string head = R"({"booking_id":"b","tx_ref":"t","reference":"r","amount":{"amount":1,"currency":"ETB"},"postings":)";
  for (const char* postings : {"[]}", "[ ]}", R"([{"debit":"a","credit":"b","amount":1,"currency":"ETB"}]})",
                               R"([{"debit":"a","credit":"b","amount":1,"currency":"ETB"},]})", "[}", "[{}]}"}) {
    check_decoders_agree(postings_type, head + postings);
  }
}
