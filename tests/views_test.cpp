#include <doctest/doctest.h>

#include <simdjson.h>

#include "projections/views.h"
#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

namespace {

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element element;
  const auto error = parser.parse(json).get(element);
  REQUIRE_MESSAGE(error == simdjson::SUCCESS, json);
  return element;
}

}  // namespace

TEST_CASE("BookingObjectHasTheContractsShapeAndValues") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  h.advance_by(60 * ms_per_minute);
  REQUIRE_FALSE(h.run(tutor(), EndSession{"bk_1", "Line \"one\"\nLine two"}).rejected());
  h.advance_by(24 * ms_per_hour);
  REQUIRE_FALSE(h.run(student(), RateSession{"bk_1", 4, ""}).rejected());

  simdjson::dom::parser parser;
  const std::string json = views::booking_json(*h.state.find_booking("bk_1"));
  auto booking = parse(parser, json);
  CHECK(std::string_view(booking["id"]) == "bk_1");
  CHECK(std::string_view(booking["scheduled_start"]) == "2026-11-24T10:00:00Z");
  CHECK(int64_t(booking["duration_minutes"]) == 60);
  CHECK(int64_t(booking["price"]["amount"]) == 35000);
  CHECK(std::string_view(booking["price"]["currency"]) == "ETB");
  CHECK(std::string_view(booking["status"]) == "completed");
  CHECK(std::string_view(booking["payment_ref"]) == "tx-bk_1");
  CHECK(bool(booking["session"]["is_active"]) == false);
  CHECK(int64_t(booking["session"]["duration_seconds"]) == 3600);
  CHECK(std::string_view(booking["session"]["channel"]) == "tl-bk_1");
  CHECK(std::string_view(booking["session"]["notes"]) == "Line \"one\"\nLine two");
  CHECK(std::string_view(booking["escrow"]["status"]) == "released");
  CHECK(int64_t(booking["escrow"]["tutor_amount"]["amount"]) == 29750);
  CHECK(int64_t(booking["escrow"]["fee_amount"]["amount"]) == 5250);
  CHECK(booking["escrow"]["refunded_amount"].is_null());
  CHECK(std::string_view(booking["escrow"]["released_at"]) == "2026-11-25T11:00:00Z");
  CHECK(int64_t(booking["rating"]["stars"]) == 4);
  CHECK(booking["rating"]["comment"].is_null());
  CHECK(uint64_t(booking["version"]) == h.state.find_booking("bk_1")->version);

  auto balances = parse(parser, views::balances_json(h.state, "t1"));
  CHECK(std::string_view(balances["balances"].at(0)["currency"]) == "ETB");
  CHECK(int64_t(balances["balances"].at(0)["available"]) == 29750);
  CHECK(int64_t(balances["balances"].at(0)["pending_release"]) == 0);
  CHECK(std::string(views::balances_json(h.state, "nobody")) == R"({"balances":[]})");
}

TEST_CASE("ACurrencyTheTutorWasPaidInKeepsItsBalanceRowAtZero") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.book("bk_2", example_start + ms_per_day);
  REQUIRE_FALSE(h.run(tutor(), AcceptBooking{"bk_2"}).rejected());  // accepted, never paid: no row of its own
  CHECK(std::string(views::balances_json(h.state, "t1")) == R"({"balances":[]})");
  h.accept_and_pay("bk_1");
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  h.advance_by(60 * ms_per_minute);
  REQUIRE_FALSE(h.run(tutor(), EndSession{"bk_1", ""}).rejected());
  CHECK(std::string(views::balances_json(h.state, "t1")) ==
        R"({"balances":[{"currency":"ETB","available":0,"pending_release":29750,"withdrawing":0}]})");
  // The only escrow disputed: nothing pending, and the row stays, at zero.
  REQUIRE_FALSE(h.run(student(), OpenDispute{"bk_1", "no audio"}).rejected());
  CHECK(std::string(views::balances_json(h.state, "t1")) ==
        R"({"balances":[{"currency":"ETB","available":0,"pending_release":0,"withdrawing":0}]})");
}

TEST_CASE("SessionStatusCountsTheWindowAndTheRemainingTime") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  simdjson::dom::parser parser;
  auto early = parse(parser, views::session_status_json(*h.state.find_booking("bk_1"), h.policy, example_start - 6 * ms_per_minute));
  CHECK(bool(early["can_start_now"]) == false);
  CHECK(std::string_view(early["can_start_from"]) == "2026-11-24T09:55:00Z");
  CHECK(std::string_view(early["can_start_until"]) == "2026-11-24T10:15:00Z");
  CHECK(std::string_view(early["scheduled_end"]) == "2026-11-24T11:00:00Z");
  CHECK(early["seconds_remaining"].is_null());
  auto open = parse(parser, views::session_status_json(*h.state.find_booking("bk_1"), h.policy, example_start - 5 * ms_per_minute));
  CHECK(bool(open["can_start_now"]) == true);
  h.advance_to(example_start + 10 * ms_per_minute);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  auto active = parse(parser, views::session_status_json(*h.state.find_booking("bk_1"), h.policy, h.now));
  CHECK(bool(active["is_active"]) == true);
  CHECK(int64_t(active["seconds_remaining"]) == 50 * 60);
  CHECK(std::string_view(active["escrow"]["status"]) == "held");
}

TEST_CASE("WithdrawalNotificationAndEventObjectsParse") {
  DomainHarness h;
  Withdrawal w{"wd_1", "t1", etb_amount(100), "cbe:1", WithdrawalStatus::failed, example_start, example_start + 1, "closed"};
  simdjson::dom::parser parser;
  auto withdrawal = parse(parser, views::withdrawal_json(w));
  CHECK(std::string_view(withdrawal["status"]) == "failed");
  CHECK(int64_t(withdrawal["amount"]["amount"]) == 100);
  std::string notification;
  views::append_notification(notification, NotificationView{"n_7", "escrow_released", "Payment received: ETB 297.50", "", example_start});
  auto n = parse(parser, notification);
  CHECK(n["booking_id"].is_null());
  CHECK(std::string_view(n["text"]) == "Payment received: ETB 297.50");
  std::string event;
  views::append_event(event, views::EventFields{3, "booking-bk_1", 2, "BookingAccepted", example_start, "tutor:t1",
                                                R"({"booking_id":"bk_1"})", "ab"});
  auto e = parse(parser, event);
  CHECK(std::string_view(e["data"]["booking_id"]) == "bk_1");
  CHECK(std::string_view(e["at"]) == "2026-11-24T10:00:00Z");
}
