#include <doctest/doctest.h>

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

TEST_CASE("RecordsWithAnUnknownSchemaOrActorAreCorruption") {
  EventRecord record;
  record.position = 1;
  record.type = "BookingAccepted";
  record.data = R"({"booking_id":"b"})";
  record.actor = "system";
  record.schema = 2;
  Event event;
  CHECK(decode_event(record, &event).is_corruption());
  record.schema = 1;
  record.actor = "wizard:x";
  CHECK(decode_event(record, &event).is_corruption());
  record.actor = "student:";
  CHECK(decode_event(record, &event).is_corruption());
}
