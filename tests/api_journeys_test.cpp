// The seed's journeys over HTTP, against the real server, with the test clock.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "api/agora_token.h"
#include "support/api_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

const Actor s1 = student("s1");
const Actor t1 = tutor("t1");

std::string path(std::string_view booking, std::string_view action) { return fmt::format("/api/bookings/{}/{}", booking, action); }
std::string session(std::string_view booking, std::string_view action) { return fmt::format("/api/sessions/{}/{}", booking, action); }

}  // namespace

TEST_CASE("StudentAndTutorJourneyFromBookingToPayoutOverHttp") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  auto r = api.call("GET", "/api/bookings/" + id, "", t1);
  CHECK(std::string_view(api.json(r.body)["status"]) == "requested");
  api.accept_and_pay(id, t1, s1);
  r = api.call("GET", "/api/bookings/" + id, "", s1);
  CHECK(std::string_view(api.json(r.body)["status"]) == "confirmed");
  CHECK(std::string_view(api.json(r.body)["escrow"]["status"]) == "held");

  // Too early: the window opens 5 minutes before the start.
  api.advance_seconds((example_start - api.engine->now()) / 1000 - 6 * 60);
  r = api.call("POST", session(id, "start"), "", s1);
  CHECK(r.status == 409);
  CHECK(std::string_view(api.json(r.body)["error"]["code"]) == "outside_window");
  r = api.call("GET", session(id, "status"), "", s1);
  CHECK(bool(api.json(r.body)["can_start_now"]) == false);

  api.advance_seconds(60);  // now 5 minutes before: the window is open
  r = api.call("GET", session(id, "status"), "", t1);
  CHECK(bool(api.json(r.body)["can_start_now"]) == true);
  r = api.call("POST", session(id, "start"), "", s1);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::string_view(api.json(r.body)["booking"]["status"]) == "in_session");
  CHECK(api.json(r.body)["rtc"].is_null());  // no Agora credentials configured
  r = api.call("POST", session(id, "join"), "", t1);
  CHECK(r.status == 200);

  api.advance_seconds(60 * 60);
  r = api.call("POST", session(id, "end"), R"({"notes":"Covered limits and derivatives"})", t1);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto booking = api.json(r.body);
  CHECK(std::string_view(booking["status"]) == "completed");
  CHECK(std::string_view(booking["escrow"]["status"]) == "release_scheduled");
  CHECK(std::string_view(booking["session"]["notes"]) == "Covered limits and derivatives");

  r = api.call("GET", "/api/me/balance", "", t1);
  CHECK(r.body == R"({"balances":[{"currency":"ETB","available":0,"pending_release":29750,"withdrawing":0}]})");

  api.advance_seconds(24 * 3600 - 1);
  r = api.call("GET", "/api/bookings/" + id, "", t1);
  CHECK(std::string_view(api.json(r.body)["escrow"]["status"]) == "release_scheduled");
  api.advance_seconds(1);
  r = api.call("GET", "/api/bookings/" + id, "", t1);
  CHECK(std::string_view(api.json(r.body)["escrow"]["status"]) == "released");
  r = api.call("GET", "/api/me/balance", "", t1);
  CHECK(r.body == R"({"balances":[{"currency":"ETB","available":29750,"pending_release":0,"withdrawing":0}]})");

  r = api.call("GET", "/api/me/notifications?limit=200", "", t1);
  CHECK(r.body.find(R"("type":"escrow_released","text":"Payment received: ETB 297.50")") != std::string::npos);

  r = api.call("POST", path(id, "rating"), R"({"stars":5,"comment":"Clear and patient"})", s1);
  CHECK(r.status == 200);
  CHECK(int64_t(api.json(r.body)["rating"]["stars"]) == 5);

  // The history of the booking, from the log.
  r = api.call("GET", path(id, "events"), "", s1);
  REQUIRE(r.status == 200);
  CHECK(r.body.find(R"("type":"EscrowReleased")") != std::string::npos);
  CHECK(r.body.find(R"("actor":"system")") != std::string::npos);
  // Times and money in event data have the contract's shapes too (the log stores ms and bare
  // amounts): what the apps read from the history, they read like everything else.
  auto events = api.json(r.body)["data"];
  bool saw_request = false;
  bool saw_schedule = false;
  for (auto event : events) {
    const std::string_view type = event["type"];
    if (type == "BookingRequested") {
      saw_request = true;
      CHECK(std::string_view(event["data"]["scheduled_start"]) == "2026-11-24T10:00:00Z");
      CHECK(int64_t(event["data"]["price"]["amount"]) == 35000);
    }
    if (type == "EscrowReleaseScheduled") {
      saw_schedule = true;
      CHECK(std::string_view(event["data"]["release_at"]).ends_with("Z"));
      CHECK(int64_t(event["data"]["tutor_amount"]["amount"]) == 29750);
      CHECK(std::string_view(event["data"]["tutor_amount"]["currency"]) == "ETB");
      CHECK(int64_t(event["data"]["fee_amount"]["amount"]) == 5250);
    }
    if (type == "EscrowReleased") {
      CHECK(int64_t(event["data"]["tutor_amount"]["amount"]) == 29750);
      CHECK(std::string_view(event["data"]["postings"].at(0)["currency"]) == "ETB");
    }
  }
  CHECK(saw_request);
  CHECK(saw_schedule);
}

TEST_CASE("NoShowRefundsOverHttp") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  api.advance_seconds((example_start - api.engine->now()) / 1000 + 15 * 60);
  auto r = api.call("GET", "/api/bookings/" + id, "", s1);
  CHECK(std::string_view(api.json(r.body)["status"]) == "no_show");
  CHECK(std::string_view(api.json(r.body)["escrow"]["status"]) == "refunded");
  CHECK(int64_t(api.json(r.body)["escrow"]["refunded_amount"]["amount"]) == 35000);
}

TEST_CASE("DisputeThenSplitOverHttp") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  api.advance_seconds((example_start - api.engine->now()) / 1000);
  REQUIRE(api.call("POST", session(id, "start"), "", t1).status == 200);
  REQUIRE(api.call("POST", session(id, "end"), "", s1).status == 200);
  auto r = api.call("POST", path(id, "dispute"), R"({"reason":"The tutor left after ten minutes"})", s1);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::string_view(api.json(r.body)["escrow"]["status"]) == "disputed");
  api.advance_seconds(48 * 3600);  // the hold passes; nothing is released while disputed
  r = api.call("POST", "/api/admin/bookings/" + id + "/resolve", R"({"refund_amount":20000})", admin());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto booking = api.json(r.body);
  CHECK(std::string_view(booking["escrow"]["status"]) == "split");
  CHECK(int64_t(booking["escrow"]["refunded_amount"]["amount"]) == 20000);
  CHECK(int64_t(booking["escrow"]["tutor_amount"]["amount"]) == 12750);  // 150.00 less 15% fee (22.50)
  CHECK(int64_t(booking["escrow"]["fee_amount"]["amount"]) == 2250);
}

TEST_CASE("WithdrawalJourneyOverHttp") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  api.advance_seconds((example_start - api.engine->now()) / 1000);
  REQUIRE(api.call("POST", session(id, "start"), "", t1).status == 200);
  REQUIRE(api.call("POST", session(id, "end"), "", t1).status == 200);
  api.advance_seconds(24 * 3600);
  auto r = api.call("POST", "/api/me/withdrawals", R"({"amount":{"amount":29751,"currency":"ETB"},"destination":"cbe:100012345"})", t1);
  CHECK(r.status == 409);
  CHECK(std::string_view(api.json(r.body)["error"]["code"]) == "insufficient_funds");
  r = api.call("POST", "/api/me/withdrawals", R"({"amount":{"amount":20000,"currency":"ETB"},"destination":"cbe:100012345"})", t1);
  REQUIRE_MESSAGE(r.status == 201, r.body);
  const std::string withdrawal{std::string_view(api.json(r.body)["id"])};
  CHECK(std::string_view(api.json(r.body)["status"]) == "requested");
  r = api.call("GET", "/api/me/balance", "", t1);
  CHECK(r.body == R"({"balances":[{"currency":"ETB","available":9750,"pending_release":0,"withdrawing":20000}]})");
  r = api.call("POST", "/api/admin/withdrawals/" + withdrawal + "/complete", "", admin());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(std::string_view(api.json(r.body)["status"]) == "completed");
  r = api.call("POST", "/api/admin/withdrawals/" + withdrawal + "/fail", "", admin());
  CHECK(r.status == 409);
  r = api.call("GET", "/api/me/withdrawals", "", t1);
  CHECK(r.body.find(withdrawal) != std::string::npos);
  r = api.call("GET", "/api/me/balance", "", t1);
  CHECK(r.body == R"({"balances":[{"currency":"ETB","available":9750,"pending_release":0,"withdrawing":0}]})");
}

TEST_CASE("ARestartInTheMiddleOfAJourneyLosesNothing") {
  ApiFixture api;
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  api.advance_seconds((example_start - api.engine->now()) / 1000);
  REQUIRE(api.call("POST", session(id, "start"), "", s1).status == 200);
  REQUIRE(api.call("POST", session(id, "end"), "", t1).status == 200);
  const std::string before = api.call("GET", "/api/bookings/" + id, "", s1).body;
  api.restart();
  CHECK(api.call("GET", "/api/bookings/" + id, "", s1).body == before);
  api.advance_seconds(24 * 3600);  // the release timer came back with the restart
  auto r = api.call("GET", "/api/me/balance", "", t1);
  CHECK(r.body == R"({"balances":[{"currency":"ETB","available":29750,"pending_release":0,"withdrawing":0}]})");
}

TEST_CASE("SessionStartHandsOutAnAgoraTokenThatIsNeverStored") {
  ApiFixture api;
  api.stop();
  api.config.agora = agora::AgoraCredentials{"970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"};
  api.start();
  const std::string id = api.create_booking(s1, "t1", example_start);
  api.accept_and_pay(id, t1, s1);
  api.advance_seconds((example_start - api.engine->now()) / 1000);
  const HeaderList key = {{"Idempotency-Key", "start-1"}};
  auto r = api.call("POST", session(id, "start"), "", s1, key);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto rtc = api.json(r.body)["rtc"];
  CHECK(std::string_view(rtc["provider"]) == "agora");
  CHECK(std::string_view(rtc["channel"]) == "tl-" + id);
  CHECK(std::string_view(rtc["account"]) == "s1");
  const std::string token{std::string_view(rtc["token"])};
  CHECK(token.starts_with("007"));
  // The log holds no token.
  bool token_in_log = false;
  REQUIRE(api.engine->log().scan(1, [&](const EventRecord& record) {
    token_in_log |= record.data.find("007") != std::string::npos && record.data.find(token.substr(3, 20)) != std::string::npos;
    return true;
  }).is_ok());
  CHECK_FALSE(token_in_log);
  // Nor does the idempotency store: it keeps how the token was made.
  const auto stored = api.engine->log().find_idempotency("student:s1", "start-1");
  REQUIRE(stored);
  CHECK(stored->body.find(token.substr(3, 20)) == std::string::npos);
  CHECK(stored->body.find(R"("rtc":{"issue_ts":)") != std::string::npos);
  // A retry with the same key gets the first answer again, credentials and all, byte for byte,
  // also in a later second (a new token would carry a new issue time).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string first = r.body;
  r = api.call("POST", session(id, "start"), "", s1, key);
  REQUIRE(r.status == 200);
  CHECK(r.body == first);
  // join is the same route for this purpose; without a key every answer gets new credentials.
  const HeaderList join_key = {{"Idempotency-Key", "join-1"}};
  r = api.call("POST", session(id, "join"), "", s1, join_key);
  REQUIRE(r.status == 200);
  const std::string first_join = r.body;
  CHECK(api.call("POST", session(id, "join"), "", s1, join_key).body == first_join);
  CHECK(api.call("POST", session(id, "join"), "", s1).body != first_join);
}

namespace {

// The value of one sample line `name value` (or `name{labels} value`) of a Prometheus text.
uint64_t sample(const std::string& text, std::string_view series) {
  const std::string prefix = std::string(series) + " ";
  const size_t at = text.find("\n" + prefix);
  REQUIRE_MESSAGE(at != std::string::npos, series);
  return std::stoull(text.substr(at + 1 + prefix.size()));
}

}  // namespace

TEST_CASE("MetricsTimeEveryDurableWriteOfAGroupCommit") {
  ApiFixture api;
  for (int i = 0; i < 3; ++i) api.create_booking(s1, "t1", example_start + i * 2 * ms_per_hour);
  // Refused by the domain: a batch is decided, nothing is written.
  CHECK(api.call("POST", path("no-such-booking", "accept"), "", t1).status == 404);

  const auto metrics = api.call("GET", "/metrics");
  REQUIRE(metrics.status == 200);
  const std::string& text = metrics.body;
  CHECK(text.find("# TYPE tl_engine_batch_write_seconds histogram\n") != std::string::npos);
  const uint64_t batches = sample(text, "tl_engine_batch_commands_count");
  const uint64_t writes = sample(text, "tl_engine_batch_write_seconds_count");
  CHECK(writes >= 3);
  CHECK(batches == writes + 1);  // the refused command's batch wrote nothing
  CHECK(sample(text, "tl_engine_batch_write_seconds_bucket{le=\"+Inf\"}") == writes);
  // Buckets are cumulative, in seconds, and the slowest bound holds every write that was quick.
  uint64_t previous = 0;
  for (std::string_view le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                              "0.25", "0.5", "1", "5"}) {
    const uint64_t count = sample(text, fmt::format("tl_engine_batch_write_seconds_bucket{{le=\"{}\"}}", le));
    CHECK(count >= previous);
    previous = count;
  }
  CHECK(previous <= writes);
  const size_t sum_at = text.find("\ntl_engine_batch_write_seconds_sum ");
  REQUIRE(sum_at != std::string::npos);
  CHECK(std::stod(text.substr(sum_at + 35)) > 0.0);  // an fsync takes time
  // No scheduled checkpoint yet (every 1M events or 10 minutes): its pause and write show as 0.
  CHECK(sample(text, "tl_engine_checkpoint_pause_milliseconds") == 0);
  CHECK(sample(text, "tl_engine_checkpoint_write_milliseconds") == 0);
}
