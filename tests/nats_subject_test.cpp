// Where events go in NATS, and what the replica does with each fetched message: pure functions.
#include <doctest/doctest.h>

#include "api/nats_connection.h"

#include "api/nats_follower.h"
#include "api/nats_subject.h"
#include "support/engine_fixture.h"

using namespace tl;
using namespace tl::test;

TEST_CASE("TheFrontOfAStoredValueGivesItsPositionAndStream") {
  EngineFixture primary;
  primary.book("bk_1", example_start);
  std::string stored;
  REQUIRE(primary.engine->log().scan_raw(1, [&](uint64_t, std::string_view value) {
    stored = value;
    return false;
  }).is_ok());
  const auto front = read_stored_record_front(stored);
  REQUIRE(front);
  CHECK(front->position == 1);
  CHECK(front->stream == "booking-bk_1");
  CHECK(event_subject("tl.events", front->stream) == "tl.events.booking");
}

TEST_CASE("AStoredValueOfAnotherShapeHasNoFront") {
  CHECK_FALSE(read_stored_record_front(""));
  CHECK_FALSE(read_stored_record_front(R"({"stream":"booking-1","position":1})"));
  CHECK_FALSE(read_stored_record_front(R"({"position":0,"stream":"booking-1"})"));
  CHECK_FALSE(read_stored_record_front(R"({"position":x,"stream":"booking-1"})"));
  CHECK_FALSE(read_stored_record_front(R"({"position":7,"stream":"booking-1)"));
  // An escape in the name: the caller decodes the whole record instead.
  CHECK_FALSE(read_stored_record_front(R"({"position":7,"stream":"book\"ing-1","version":1})"));
  const auto front = read_stored_record_front(R"({"position":12,"stream":"tutor-t1","version":1})");
  REQUIRE(front);
  CHECK(front->position == 12);
  CHECK(front->stream == "tutor-t1");
}

TEST_CASE("TheSubjectTokenIsTheStreamTypeWithForbiddenCharactersReplaced") {
  CHECK(stream_type_token("booking-bk_1") == "booking");
  CHECK(stream_type_token("tutor-t1-x") == "tutor");
  CHECK(stream_type_token("ledger") == "ledger");
  CHECK(stream_type_token("a.b*c>d e-1") == "a_b_c_d_e");
  CHECK(stream_type_token("-1") == "_");
  CHECK(stream_type_token("") == "_");
  CHECK(all_events_subject("tl.events") == "tl.events.>");
}

TEST_CASE("AFetchedMessageIsAppliedSkippedAsARedeliveryOrSeenAsAGap") {
  CHECK(classify_fetched_message(5, 5) == FetchedMessageAction::apply);
  CHECK(classify_fetched_message(4, 5) == FetchedMessageAction::skip);
  CHECK(classify_fetched_message(1, 5) == FetchedMessageAction::skip);
  CHECK(classify_fetched_message(6, 5) == FetchedMessageAction::gap);
  CHECK(classify_fetched_message(1, 1) == FetchedMessageAction::apply);
}

TEST_CASE("AServerListIsSplitAtCommasWithBlanksTrimmed") {
  CHECK(nats::split_urls("nats://a:1") == std::vector<std::string>{"nats://a:1"});
  CHECK(nats::split_urls("nats://a:1, nats://b:2 ,,nats://c:3") ==
        std::vector<std::string>{"nats://a:1", "nats://b:2", "nats://c:3"});
  CHECK(nats::split_urls(" , ").empty());
}

TEST_CASE("NatsUrlsMustNameNatsServers") {
  CHECK(nats::nats_urls_problem("nats://127.0.0.1:4222").empty());
  CHECK(nats::nats_urls_problem("nats://a:4222, tls://b:4222,c:4222").empty());
  CHECK(nats::nats_urls_problem("http://127.0.0.1:4222").find("'http://127.0.0.1:4222' is not a NATS server") == 0);
  CHECK(nats::nats_urls_problem("nats://a:4222,https://b:1").find("'https://b:1' is not a NATS server") == 0);
  CHECK(nats::nats_urls_problem("nats://").find("names no host") != std::string::npos);
  CHECK(nats::nats_urls_problem(" , ") == "no NATS server named");
}
