// Table-driven: every command against every booking state, and rejections in precedence order.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

namespace {

// Drives a fresh harness to a booking "bk" in the named state, with the clock where that state
// lives (inside the start window for confirmed, mid-session for in_session).
DomainHarness build_state(const std::string& name) {
  DomainHarness h;
  h.book("bk", example_start);
  auto ok = [&](const Actor& actor, CommandBody body) {
    const Decision d = h.run(actor, std::move(body));
    REQUIRE_MESSAGE(!d.rejected(), d.message);
  };
  if (name == "requested") return h;
  if (name == "declined") { ok(tutor(), DeclineBooking{"bk", ""}); return h; }
  if (name == "cancelled") { ok(student(), CancelBooking{"bk", ""}); return h; }
  if (name == "expired") { h.advance_by(24 * ms_per_hour); return h; }
  if (name == "accepted") { ok(tutor(), AcceptBooking{"bk"}); return h; }
  h.accept_and_pay("bk");
  if (name == "no_show") { h.advance_to(example_start + 15 * ms_per_minute); return h; }
  h.advance_to(example_start);
  if (name == "confirmed") return h;
  ok(student(), StartSession{"bk"});
  h.advance_by(10 * ms_per_minute);
  if (name == "in_session") return h;
  ok(tutor(), EndSession{"bk", "done"});
  if (name == "release_scheduled") return h;
  if (name == "disputed") { ok(student(), OpenDispute{"bk", "bad audio"}); return h; }
  if (name == "released") { h.advance_by(24 * ms_per_hour); return h; }
  FAIL("unknown state ", name);
  return h;
}

struct Step {
  const char* name;
  Actor actor;
  CommandBody body;
};

std::vector<Step> commands() {
  return {
      {"accept", tutor(), AcceptBooking{"bk"}},
      {"decline", tutor(), DeclineBooking{"bk", ""}},
      {"cancel", student(), CancelBooking{"bk", ""}},
      {"checkout", student(), Checkout{"bk"}},
      {"start", student(), StartSession{"bk"}},
      {"join", tutor(), JoinSession{"bk"}},
      {"end", tutor(), EndSession{"bk", ""}},
      {"rate", student(), RateSession{"bk", 5, ""}},
      {"dispute", student(), OpenDispute{"bk", "why"}},
      {"resolve", admin(), ResolveDispute{"bk", 0}},
  };
}

}  // namespace

TEST_CASE("EveryCommandAgainstEveryBookingStateFollowsTheLifecycle") {
  // One row per state: the commands that are allowed there; every other command is refused with
  // invalid_transition (the booking's state does not allow it), but for the few listed below.
  const std::map<std::string, std::vector<std::string>> allowed = {
      {"requested", {"accept", "decline", "cancel"}},
      {"accepted", {"cancel", "checkout"}},
      {"confirmed", {"cancel", "start"}},
      {"in_session", {"start", "join", "end"}},
      {"release_scheduled", {"rate", "dispute"}},
      {"disputed", {"rate", "resolve"}},
      {"released", {"rate"}},
      {"cancelled", {}},
      {"declined", {}},
      {"expired", {}},
      {"no_show", {}},
  };
  // Refused, but not for the state alone: a no-show's window has closed (API.md's error table).
  const std::map<std::pair<std::string, std::string>, Rejection> refused_otherwise = {
      {{"no_show", "start"}, Rejection::outside_window},
      {{"no_show", "join"}, Rejection::outside_window},
  };
  for (const auto& [state_name, allowed_commands] : allowed) {
    for (const auto& step : commands()) {
      CAPTURE(state_name);
      CAPTURE(step.name);
      DomainHarness h = build_state(state_name);
      const Decision decision = h.run(step.actor, step.body);
      const bool expect_ok =
          std::find(allowed_commands.begin(), allowed_commands.end(), step.name) != allowed_commands.end();
      if (expect_ok) {
        CHECK_MESSAGE(!decision.rejected(), decision.message);
        CHECK(!decision.events.empty());
      } else {
        const auto otherwise = refused_otherwise.find({state_name, step.name});
        CHECK(decision.rejection ==
              (otherwise == refused_otherwise.end() ? Rejection::invalid_transition : otherwise->second));
        CHECK(decision.events.empty());
      }
    }
  }
}

namespace {

// "bk", paid, due to start at example_start; the harness's clock two days before.
DomainHarness paid_booking() {
  DomainHarness h;
  h.book("bk", example_start);
  h.accept_and_pay("bk");
  return h;
}

}  // namespace

TEST_CASE("StartOutsideTheWindowIsOutsideWindowAndInsideItStarts") {
  DomainHarness early = paid_booking();
  early.advance_to(example_start - 5 * ms_per_minute - 1);
  CHECK(early.run(student(), StartSession{"bk"}).rejection == Rejection::outside_window);
  early.advance_to(example_start - 5 * ms_per_minute);
  CHECK_FALSE(early.run(student(), StartSession{"bk"}).rejected());

  // Unpaid is invalid_transition, even inside the window.
  DomainHarness unpaid;
  unpaid.book("bk", example_start);
  REQUIRE_FALSE(unpaid.run(tutor(), AcceptBooking{"bk"}).rejected());
  unpaid.now = example_start - ms_per_minute;
  CHECK(unpaid.run(student(), StartSession{"bk"}).rejection == Rejection::invalid_transition);
}

// API.md's error table: start/join before the window opens or after it closes is
// outside_window. A paid session not yet started, inside its window, waits for a start.
TEST_CASE("JoinOfAPaidSessionOutsideTheWindowIsOutsideWindowInsideItNotActive") {
  DomainHarness h = paid_booking();
  h.advance_to(example_start - 5 * ms_per_minute - 1);
  CHECK(h.run(tutor(), JoinSession{"bk"}).rejection == Rejection::outside_window);
  h.advance_to(example_start);
  CHECK(h.run(tutor(), JoinSession{"bk"}).rejection == Rejection::invalid_transition);
  DomainHarness late = paid_booking();
  late.now = example_start + 15 * ms_per_minute;  // the no-show timer has not been applied yet
  CHECK(late.run(student(), JoinSession{"bk"}).rejection == Rejection::outside_window);
  CHECK(late.run(student(), StartSession{"bk"}).rejection == Rejection::outside_window);
  // Once the no-show timer has fired, the booking is a no-show, and the answer is the same.
  DomainHarness missed = paid_booking();
  missed.advance_to(example_start + 15 * ms_per_minute);
  REQUIRE(missed.state.find_booking("bk")->status == BookingStatus::no_show);
  for (const Actor& party : {student(), tutor()}) {
    const auto started = missed.run(party, StartSession{"bk"});
    CHECK(started.rejection == Rejection::outside_window);
    CHECK_MESSAGE(started.message.find("the start window closed at ") != std::string::npos, started.message);
    CHECK(missed.run(party, JoinSession{"bk"}).rejection == Rejection::outside_window);
  }
}

TEST_CASE("RejectionsComeInPrecedenceOrderRoleFieldsNotFoundPartyState") {
  DomainHarness h = build_state("accepted");  // "bk" is accepted: start is a state error
  const Actor stranger_student = student("s2");
  const Actor other_tutor = tutor("t2");

  SUBCASE("StartSession") {
    CHECK(h.run(admin(), StartSession{"missing"}).rejection == Rejection::role_not_allowed);
    CHECK(h.run(stranger_student, StartSession{"missing"}).rejection == Rejection::booking_not_found);
    CHECK(h.run(stranger_student, StartSession{"bk"}).rejection == Rejection::not_a_party);
    CHECK(h.run(student(), StartSession{"bk"}).rejection == Rejection::invalid_transition);
  }
  SUBCASE("ResolveDispute") {
    CHECK(h.run(student(), ResolveDispute{"missing", -1}).rejection == Rejection::role_not_allowed);
    CHECK(h.run(admin(), ResolveDispute{"missing", -1}).rejection == Rejection::field_invalid);
    CHECK(h.run(admin(), ResolveDispute{"missing", 1}).rejection == Rejection::booking_not_found);
    CHECK(h.run(admin(), ResolveDispute{"bk", 35001}).rejection == Rejection::field_invalid_for_booking);
    CHECK(h.run(admin(), ResolveDispute{"bk", 35000}).rejection == Rejection::invalid_transition);
  }
  SUBCASE("RateSession") {
    CHECK(h.run(tutor(), RateSession{"missing", 9, ""}).rejection == Rejection::role_not_allowed);
    CHECK(h.run(student(), RateSession{"missing", 9, ""}).rejection == Rejection::field_invalid);
    CHECK(h.run(student(), RateSession{"missing", 5, ""}).rejection == Rejection::booking_not_found);
    CHECK(h.run(stranger_student, RateSession{"bk", 5, ""}).rejection == Rejection::not_a_party);
    CHECK(h.run(student(), RateSession{"bk", 5, ""}).rejection == Rejection::invalid_transition);
  }
  SUBCASE("AcceptBooking") {
    CHECK(h.run(student(), AcceptBooking{"missing"}).rejection == Rejection::role_not_allowed);
    CHECK(h.run(other_tutor, AcceptBooking{"missing"}).rejection == Rejection::booking_not_found);
    CHECK(h.run(other_tutor, AcceptBooking{"bk"}).rejection == Rejection::not_a_party);
    CHECK(h.run(tutor(), AcceptBooking{"bk"}).rejection == Rejection::invalid_transition);
  }
  SUBCASE("RequestBooking") {
    const RequestBooking good{"bk2", "t1", "Physics", example_start, 60, etb_amount(35000)};
    auto with = [&](auto change) {
      RequestBooking c = good;
      change(c);
      return c;
    };
    CHECK(h.run(tutor(), with([](auto& c) { c.duration_minutes = 1; })).rejection == Rejection::role_not_allowed);
    for (auto bad : std::vector<std::function<void(RequestBooking&)>>{
             [](auto& c) { c.duration_minutes = 14; }, [](auto& c) { c.duration_minutes = 241; },
             [](auto& c) { c.price.amount = 0; }, [](auto& c) { c.price.amount = 1'000'000'000'001; },
             [](auto& c) { c.price.amount = -5; }, [](auto& c) { c.scheduled_start = example_start - 3 * ms_per_day; },
             [](auto& c) { c.tutor_id = "s1"; }, [](auto& c) { c.tutor_id = "bad id"; },
             [](auto& c) { c.subject = ""; }, [](auto& c) { c.subject = std::string(201, 'x'); },
             [](auto& c) { c.price.currency = Currency{}; }}) {
      CHECK(h.run(student(), with(bad)).rejection == Rejection::field_invalid);
    }
    CHECK(h.run(student(), with([](auto& c) { c.booking_id = "bk"; })).rejection == Rejection::already_exists);
    CHECK_FALSE(h.run(student(), good).rejected());
  }
  SUBCASE("RequestWithdrawal") {
    CHECK(h.run(student(), RequestWithdrawal{"wd", etb_amount(-1), ""}).rejection == Rejection::role_not_allowed);
    CHECK(h.run(tutor(), RequestWithdrawal{"wd", etb_amount(-1), "x"}).rejection == Rejection::field_invalid);
    CHECK(h.run(tutor(), RequestWithdrawal{"wd", etb_amount(1), ""}).rejection == Rejection::field_invalid);
    CHECK(h.run(tutor(), RequestWithdrawal{"wd", etb_amount(1), "x"}).rejection == Rejection::insufficient_funds);
    CHECK(h.run(admin(), CompleteWithdrawal{"wd"}).rejection == Rejection::withdrawal_not_found);
    CHECK(h.run(tutor(), CompleteWithdrawal{"wd"}).rejection == Rejection::role_not_allowed);
  }
}

TEST_CASE("FreeTextRefusesControlCharactersAndBlankRequiredFields") {
  // What one party types reaches the other's screen and the log for good: an escape sequence or
  // a NUL must not, and a required field of spaces says nothing.
  const std::vector<std::string> controls = {std::string("a\0b", 3), "a\x01" "b", "\x1b[2J", "a\x7f", "a\xC2\x85" "b"};
  SUBCASE("one-line fields: subject, destination") {
    DomainHarness h = build_state("released");
    auto book = [&](std::string subject) {
      return h.run(student(), RequestBooking{"bk2", "t1", std::move(subject), example_start + 7 * ms_per_day, 60, etb_amount(35000)});
    };
    auto withdraw = [&](std::string destination) {
      return h.run(tutor(), RequestWithdrawal{"wd", etb_amount(100), std::move(destination)});
    };
    for (const std::string& text : controls) {
      CAPTURE(text);
      CHECK(book(text).message.find("subject: must not contain control characters") != std::string::npos);
      CHECK(withdraw(text).message.find("destination: must not contain control characters") != std::string::npos);
    }
    CHECK(book("two\nlines").rejection == Rejection::field_invalid);
    CHECK(book("   ").message == "subject: must not be blank");
    CHECK(withdraw(" ").message == "destination: must not be blank");
    CHECK_FALSE(book("Amharic: \xE1\x8A\xA0\xE1\x88\x9B\xE1\x88\xAD\xE1\x8A\x9B").rejected());  // UTF-8 text is fine
    CHECK_FALSE(withdraw("CBE 1000123456789").rejected());
  }
  SUBCASE("multi-line fields keep tabs and line breaks") {
    DomainHarness h = build_state("in_session");
    for (const std::string& text : controls) {
      CAPTURE(text);
      CHECK(h.run(tutor(), EndSession{"bk", text}).rejection == Rejection::field_invalid);
    }
    CHECK_FALSE(h.run(tutor(), EndSession{"bk", "covered:\n\t- limits\r\n\t- series"}).rejected());
    DomainHarness disputed = build_state("release_scheduled");
    CHECK(disputed.run(student(), OpenDispute{"bk", " \n\t"}).message == "reason: must not be blank");
    CHECK(disputed.run(student(), OpenDispute{"bk", "a\x1b"}).rejection == Rejection::field_invalid);
    CHECK(disputed.run(student(), RateSession{"bk", 4, "\x07"}).rejection == Rejection::field_invalid);
    CHECK_FALSE(disputed.run(student(), OpenDispute{"bk", "audio\ndropped"}).rejected());
  }
}

TEST_CASE("ABookingMustEndAndReleaseBeforeTheLastTimeTheContractCanShow") {
  // 9999-12-31T23:59:59Z is the last RFC 3339 second; a session whose auto-end or release
  // would fall after it is refused, one whose release lands on it is taken.
  const TimeMs room = 60 * ms_per_minute + Policy{}.auto_end_grace_ms + Policy{}.escrow_hold_ms;
  const TimeMs latest_start = floor_to_second(time_ms_max) - room;
  DomainHarness h(latest_start - 30 * ms_per_day);
  const Decision late = h.run(student(), RequestBooking{"bk_late", "t1", "Physics", latest_start + ms_per_second, 60, etb_amount(35000)});
  CHECK(late.rejection == Rejection::field_invalid);
  CHECK(late.message.find("before 9999-12-31T23:59:59Z") != std::string::npos);
  CHECK_FALSE(h.run(student(), RequestBooking{"bk_last", "t1", "Physics", latest_start, 60, etb_amount(35000)}).rejected());
  // Nobody ends it: the auto-end fires, and the release a day later on the very last second.
  h.accept_and_pay("bk_last");
  h.advance_to(latest_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_last"}).rejected());
  h.advance_to(floor_to_second(time_ms_max));
  const Booking& booking = *h.state.find_booking("bk_last");
  CHECK(booking.escrow_status == EscrowStatus::released);
  CHECK(format_rfc3339_seconds(*booking.released_at) == "9999-12-31T23:59:59Z");
}

TEST_CASE("RejectionsMapToTheContractsErrorCodes") {
  CHECK(rejection_code(Rejection::role_not_allowed) == "forbidden");
  CHECK(rejection_code(Rejection::not_a_party) == "forbidden");
  CHECK(rejection_code(Rejection::field_invalid) == "invalid_request");
  CHECK(rejection_code(Rejection::booking_not_found) == "not_found");
  CHECK(rejection_code(Rejection::invalid_transition) == "invalid_transition");
  CHECK(rejection_code(Rejection::outside_window) == "outside_window");
  CHECK(rejection_code(Rejection::insufficient_funds) == "insufficient_funds");
  CHECK(rejection_http_status(Rejection::not_a_party) == 403);
  CHECK(rejection_http_status(Rejection::field_invalid) == 400);
  CHECK(rejection_http_status(Rejection::withdrawal_not_found) == 404);
  CHECK(rejection_http_status(Rejection::insufficient_funds) == 409);
}

TEST_CASE("PaymentWebhookMatchesTxRefAmountAndCurrencyExactly") {
  DomainHarness h = build_state("accepted");
  REQUIRE_FALSE(h.run(student(), Checkout{"bk"}).rejected());
  const std::string tx_ref = h.state.find_booking("bk")->payment_ref();
  CHECK(tx_ref == "tx-bk");
  // A second checkout gives the same reference and appends nothing.
  CHECK(h.run(student(), Checkout{"bk"}).events.empty());

  auto capture = [&](std::string reference, std::string amount, std::string currency) {
    return h.run(system_actor(), CapturePayment{tx_ref, std::move(reference), std::move(amount), std::move(currency)});
  };
  Decision d = capture("r1", "350.01", "ETB");
  REQUIRE(d.events.size() == 1);
  CHECK(std::get<PaymentRejected>(d.events[0]).reason == "amount_mismatch");
  // What the provider reported is kept as it came: it may have taken that money.
  CHECK(std::get<PaymentRejected>(d.events[0]).provider_amount == "350.01");
  CHECK(std::get<PaymentRejected>(d.events[0]).provider_currency == "ETB");
  d = capture("r2", "350.00", "USD");
  CHECK(std::get<PaymentRejected>(d.events[0]).reason == "currency_mismatch");
  CHECK(std::get<PaymentRejected>(d.events[0]).provider_currency == "USD");
  d = capture("r3", "350.001", "ETB");
  CHECK(std::get<PaymentRejected>(d.events[0]).reason == "amount_mismatch");
  CHECK(h.state.find_booking("bk")->status == BookingStatus::accepted);  // still payable
  d = capture("r4", "350", "ETB");
  CHECK(std::holds_alternative<PaymentCaptured>(d.events.at(0)));
  CHECK(h.state.find_booking("bk")->status == BookingStatus::confirmed);
  // Repeat deliveries (same reference) are no-ops, whatever they say.
  CHECK(capture("r4", "350.00", "ETB").events.empty());
  CHECK(capture("r1", "350.00", "ETB").events.empty());
  CHECK(h.state.balance("escrow:bk", etb()) == 35000);
  // A new charge for a paid booking is recorded as not payable.
  d = capture("r5", "350.00", "ETB");
  CHECK(std::get<PaymentRejected>(d.events.at(0)).reason == "booking_not_payable");
  CHECK(std::get<PaymentRejected>(d.events.at(0)).provider_amount == "350.00");
  // The provider's amount and currency are bounded like its references.
  for (const auto& [amount, currency, field] : {std::tuple{std::string(129, '1'), std::string("ETB"), "amount"},
                                                std::tuple{std::string("350.00"), std::string(129, 'E'), "currency"}}) {
    const Decision too_long = capture("r7", amount, currency);
    CHECK(too_long.rejection == Rejection::field_invalid);
    CHECK(too_long.message.starts_with(field));
    CHECK(h.run(system_actor(), RejectPayment{tx_ref, "r7", "provider_status:failed", amount, currency}).rejection ==
          Rejection::field_invalid);
  }
  // The provider's words are kept and shown by reconcile: no control characters, references not blank.
  for (const auto& [reference, amount, currency, field] :
       {std::tuple{std::string("r\x01"), std::string("350.00"), std::string("ETB"), "reference"},
        std::tuple{std::string(" "), std::string("350.00"), std::string("ETB"), "reference"},
        std::tuple{std::string("r8"), std::string("350\n"), std::string("ETB"), "amount"},
        std::tuple{std::string("r8"), std::string("350.00"), std::string("ET\x7f"), "currency"}}) {
    CAPTURE(field);
    const Decision refused = capture(reference, amount, currency);
    CHECK(refused.rejection == Rejection::field_invalid);
    CHECK(refused.message.starts_with(field));
  }
  CHECK(h.run(system_actor(), CapturePayment{"tx-bk\t", "r8", "350.00", "ETB"}).message.starts_with("tx_ref"));
  CHECK(h.run(system_actor(), RejectPayment{tx_ref, "r8", "provider_status:\x1b[2J", "350.00", "ETB"}).rejection ==
        Rejection::field_invalid);
  // Unknown tx_ref: nothing to attach it to.
  CHECK(h.run(system_actor(), CapturePayment{"tx-nope", "r6", "1.00", "ETB"}).rejection == Rejection::booking_not_found);
  // Only the system (the signed webhook) may capture.
  CHECK(h.run(student(), CapturePayment{tx_ref, "r7", "350.00", "ETB"}).rejection == Rejection::role_not_allowed);
}

TEST_CASE("TimersRecheckStateAndDecideNothingWhenNotDue") {
  DomainHarness h = build_state("release_scheduled");
  const TimeMs release_at = *h.state.find_booking("bk")->release_at;
  h.now = release_at - 1;
  CHECK(h.run(system_actor(), TimerFired{TimerKind::release_escrow, "bk"}).events.empty());
  CHECK(h.run(system_actor(), TimerFired{TimerKind::auto_end_session, "bk"}).events.empty());
  REQUIRE_FALSE(h.run(student(), OpenDispute{"bk", "late"}).rejected());
  h.now = release_at;
  CHECK(h.run(system_actor(), TimerFired{TimerKind::release_escrow, "bk"}).events.empty());
  CHECK(h.run(student(), TimerFired{TimerKind::release_escrow, "bk"}).rejection == Rejection::role_not_allowed);
}

TEST_CASE("ADisputeAtTheReleaseInstantIsTooLate") {
  // The release is due at release_at even if its timer has not fired yet: decide uses `now`.
  DomainHarness h = build_state("release_scheduled");
  h.now = *h.state.find_booking("bk")->release_at;
  CHECK(h.run(student(), OpenDispute{"bk", "late"}).rejection == Rejection::invalid_transition);
}
