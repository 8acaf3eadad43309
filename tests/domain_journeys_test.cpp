// The seed's user journeys (SEED.md "Complete User Flow" and "Payment Flow") on the pure core.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine/state_hash.h"
#include "projections/notifications.h"
#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

namespace {

int64_t balance(const DomainHarness& h, std::string_view account) { return h.state.balance(account, etb()); }

std::vector<NotificationView> notifications_of(const DomainHarness& h, const Actor& user) {
  std::vector<NotificationView> views;
  const auto& lists = h.state.notifications_of(user.role);
  auto found = lists.find(user.id);
  if (found == lists.end()) return views;
  for (const auto& n : found->second) views.push_back(render_notification(h.state, n, user.role));
  return views;
}

bool has_notification(const DomainHarness& h, const Actor& user, std::string_view type, std::string_view text) {
  auto views = notifications_of(h, user);
  return std::any_of(views.begin(), views.end(), [&](const auto& v) { return v.type == type && v.text == text; });
}

}  // namespace

TEST_CASE("StudentAndTutorJourneyFromBookingToPayoutTwentyFourHoursLater") {
  DomainHarness h;
  h.book("bk_1", example_start);
  CHECK(has_notification(h, tutor("t1"), "booking_requested", "New booking request: Mathematics at 2026-11-24T10:00:00Z"));
  h.accept_and_pay("bk_1");
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.escrow_status == EscrowStatus::held);
  CHECK(balance(h, "escrow:bk_1") == 35000);
  CHECK(balance(h, "external:psp") == -35000);

  // 5 minutes before the session the start window opens; the student starts, the tutor joins.
  h.advance_to(example_start - 5 * ms_per_minute);
  CHECK_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  CHECK(h.state.find_booking("bk_1")->status == BookingStatus::in_session);
  CHECK(h.state.find_booking("bk_1")->channel() == "tl-bk_1");
  CHECK_FALSE(h.run(tutor(), StartSession{"bk_1"}).rejected());  // start on an active session joins it

  // The tutor ends the session after 60 minutes, with notes.
  h.advance_to(example_start + 55 * ms_per_minute);
  CHECK_FALSE(h.run(tutor(), EndSession{"bk_1", "Covered derivatives"}).rejected());
  const TimeMs ended = example_start + 55 * ms_per_minute;
  CHECK(h.state.find_booking("bk_1")->status == BookingStatus::completed);
  CHECK(h.state.find_booking("bk_1")->duration_seconds == 3600);
  CHECK(h.state.find_booking("bk_1")->release_at == ended + 24 * ms_per_hour);
  REQUIRE(h.state.find_tutor("t1")->pending_release.size() == 1);
  CHECK(h.state.find_tutor("t1")->pending_release[0].second == 29750);

  // Not a second before 24 hours: still held.
  CHECK(h.advance_to(ended + 24 * ms_per_hour - ms_per_second) == 0);
  CHECK(h.state.find_booking("bk_1")->escrow_status == EscrowStatus::release_scheduled);
  CHECK(balance(h, "tutor:t1") == 0);
  // At exactly 24 hours: released, fee 15% rounded down.
  CHECK(h.advance_to(ended + 24 * ms_per_hour) == 1);
  CHECK(h.state.find_booking("bk_1")->escrow_status == EscrowStatus::released);
  CHECK(h.state.find_booking("bk_1")->released_at == ended + 24 * ms_per_hour);
  CHECK(balance(h, "tutor:t1") == 29750);
  CHECK(balance(h, "platform:fees") == 5250);
  CHECK(balance(h, "escrow:bk_1") == 0);
  CHECK(h.state.find_tutor("t1")->pending_release.empty());
  CHECK(has_notification(h, tutor("t1"), "escrow_released", "Payment received: ETB 297.50"));

  // The student rates once.
  CHECK_FALSE(h.run(student(), RateSession{"bk_1", 5, "Great"}).rejected());
  CHECK(h.run(student(), RateSession{"bk_1", 4, ""}).rejection == Rejection::invalid_transition);
  CHECK(h.state.find_tutor("t1")->rating_count == 1);

  // The release timer firing again decides nothing.
  CHECK(h.run(system_actor(), TimerFired{TimerKind::release_escrow, "bk_1"}).events.empty());
  CHECK(state_hash(rebuild(h.log)) == state_hash(h.state));
}

TEST_CASE("NoShowRefundsTheStudentWhenNobodyStartsInTheWindow") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  CHECK(h.advance_to(example_start + 15 * ms_per_minute - 1) == 0);
  CHECK(h.state.find_booking("bk_1")->status == BookingStatus::confirmed);
  CHECK(h.advance_to(example_start + 15 * ms_per_minute) == 1);
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.status == BookingStatus::no_show);
  CHECK(booking.escrow_status == EscrowStatus::refunded);
  CHECK(booking.refunded_amount == 35000);
  CHECK(balance(h, "external:refunds") == 35000);
  CHECK(has_notification(h, student("s1"), "escrow_refunded", "Refund issued: ETB 350.00"));
  // Too late to start now: the window has closed.
  CHECK(h.run(student(), StartSession{"bk_1"}).rejection == Rejection::outside_window);
}

TEST_CASE("CancelAfterPaymentRefunds") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  CHECK_FALSE(h.run(student(), CancelBooking{"bk_1", "Sick"}).rejected());
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.status == BookingStatus::cancelled);
  CHECK(booking.escrow_status == EscrowStatus::refunded);
  CHECK(balance(h, "escrow:bk_1") == 0);
  CHECK(balance(h, "external:refunds") == 35000);
  CHECK(has_notification(h, tutor("t1"), "booking_cancelled", "Booking cancelled: Mathematics at 2026-11-24T10:00:00Z"));
  CHECK(h.advance_by(30 * ms_per_day) == 0);  // no timer is left
}

TEST_CASE("DisputeInsideTheHoldStopsTheReleaseAndASplitPaysBothSides") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  h.advance_to(example_start + 30 * ms_per_minute);
  REQUIRE_FALSE(h.run(student(), EndSession{"bk_1", ""}).rejected());
  h.advance_by(23 * ms_per_hour);
  const std::string announced = "Payment of ETB 297.50 will be released at 2026-11-25T10:30:00Z";
  CHECK(has_notification(h, tutor("t1"), "escrow_release_scheduled", announced));
  CHECK_FALSE(h.run(student(), OpenDispute{"bk_1", "Tutor left early"}).rejected());
  CHECK(h.state.find_tutor("t1")->pending_release.empty());
  // The hold passes: nothing is released while disputed.
  CHECK(h.advance_by(2 * ms_per_hour) == 0);
  CHECK(balance(h, "tutor:t1") == 0);
  // Admin refunds 100.00 of 350.00: 250.00 released, fee 37.50, tutor 212.50.
  CHECK_FALSE(h.run(admin(), ResolveDispute{"bk_1", 10000}).rejected());
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.escrow_status == EscrowStatus::split);
  CHECK(booking.refunded_amount == 10000);
  CHECK(booking.tutor_amount == 21250);
  CHECK(booking.fee_amount == 3750);
  CHECK(balance(h, "external:refunds") == 10000);
  CHECK(balance(h, "tutor:t1") == 21250);
  CHECK(balance(h, "platform:fees") == 3750);
  CHECK(balance(h, "escrow:bk_1") == 0);
  // The tutor's notifications still say what each event said: the scheduled release announced
  // 297.50 even though the resolution paid 212.50.
  CHECK(has_notification(h, tutor("t1"), "escrow_release_scheduled", announced));
  // What the resolution pays the tutor reads as every payout does; the student is told the split.
  CHECK(has_notification(h, tutor("t1"), "dispute_resolved", "Payment received: ETB 212.50"));
  CHECK(has_notification(h, student("s1"), "dispute_resolved",
                         "Dispute resolved: ETB 100.00 refunded, ETB 212.50 paid to the tutor"));
}

TEST_CASE("DisputeResolvedWithNothingOrEverythingRefunded") {
  for (int64_t refund : {int64_t{0}, int64_t{35000}}) {
    CAPTURE(refund);
    DomainHarness h;
    h.book("bk_1", example_start);
    h.accept_and_pay("bk_1");
    h.advance_to(example_start);
    REQUIRE_FALSE(h.run(tutor(), StartSession{"bk_1"}).rejected());
    REQUIRE_FALSE(h.run(tutor(), EndSession{"bk_1", ""}).rejected());
    REQUIRE_FALSE(h.run(student(), OpenDispute{"bk_1", "No show by tutor"}).rejected());
    REQUIRE_FALSE(h.run(admin(), ResolveDispute{"bk_1", refund}).rejected());
    CHECK(h.state.find_booking("bk_1")->escrow_status == (refund == 0 ? EscrowStatus::released : EscrowStatus::refunded));
    CHECK(balance(h, "tutor:t1") == (refund == 0 ? 29750 : 0));
    // Paid, the tutor reads a payout; refunded in full, the tutor reads the split like the student.
    CHECK(has_notification(h, tutor("t1"), "dispute_resolved",
                           refund == 0 ? "Payment received: ETB 297.50"
                                       : "Dispute resolved: ETB 350.00 refunded, ETB 0.00 paid to the tutor"));
  }
}

TEST_CASE("WithdrawalAboveTheAvailableBalanceIsRefused") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  h.advance_to(example_start + 60 * ms_per_minute);
  REQUIRE_FALSE(h.run(student(), EndSession{"bk_1", ""}).rejected());
  // Pending release is not available.
  Decision early = h.run(tutor(), RequestWithdrawal{"wd_0", etb_amount(100), "cbe:1000123"});
  CHECK(early.rejection == Rejection::insufficient_funds);
  h.advance_by(24 * ms_per_hour);
  REQUIRE(balance(h, "tutor:t1") == 29750);

  CHECK(h.run(tutor(), RequestWithdrawal{"wd_1", etb_amount(29751), "cbe:1000123"}).rejection ==
        Rejection::insufficient_funds);
  CHECK(h.state.withdrawals.empty());
  CHECK_FALSE(h.run(tutor(), RequestWithdrawal{"wd_1", etb_amount(20000), "cbe:1000123"}).rejected());
  CHECK(balance(h, "tutor:t1") == 9750);
  CHECK(balance(h, "tutor:t1:withdrawing") == 20000);
  // What is withdrawing is not available either.
  CHECK(h.run(tutor(), RequestWithdrawal{"wd_2", etb_amount(9751), "cbe:1000123"}).rejection ==
        Rejection::insufficient_funds);
  CHECK_FALSE(h.run(admin(), CompleteWithdrawal{"wd_1"}).rejected());
  CHECK(balance(h, "external:payouts") == 20000);
  CHECK(h.run(admin(), FailWithdrawal{"wd_1", "late"}).rejection == Rejection::invalid_transition);

  CHECK_FALSE(h.run(tutor(), RequestWithdrawal{"wd_2", etb_amount(9750), "cbe:1000123"}).rejected());
  CHECK_FALSE(h.run(admin(), FailWithdrawal{"wd_2", "account closed"}).rejected());
  CHECK(balance(h, "tutor:t1") == 9750);  // a failed withdrawal returns the money
  CHECK(h.state.withdrawals[1].status == WithdrawalStatus::failed);
}

TEST_CASE("AutoEndFiresAtScheduledEndPlusGraceAndTheHoldCountsFromThere") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  h.advance_to(example_start + 2 * ms_per_minute);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  const TimeMs auto_end = example_start + 75 * ms_per_minute;  // 60 min + 15 min grace
  CHECK(h.advance_to(auto_end - 1) == 0);
  CHECK(h.state.find_booking("bk_1")->session_active);
  CHECK(h.advance_to(auto_end) == 1);
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.status == BookingStatus::completed);
  CHECK(booking.ended_at == auto_end);
  CHECK(booking.duration_seconds == (auto_end - (example_start + 2 * ms_per_minute)) / 1000);
  CHECK(booking.release_at == auto_end + 24 * ms_per_hour);
}

TEST_CASE("UnansweredRequestExpiresAtTheEarlierOf24HoursOrTheStart") {
  DomainHarness h(example_start - 3 * ms_per_day);
  h.book("bk_far", example_start);                    // expires 24 h after the request
  h.book("bk_near", h.now + 2 * ms_per_hour);         // expires at its start
  CHECK(h.advance_by(2 * ms_per_hour) == 1);
  CHECK(h.state.find_booking("bk_near")->status == BookingStatus::expired);
  CHECK(h.state.find_booking("bk_far")->status == BookingStatus::requested);
  CHECK(h.advance_by(22 * ms_per_hour) == 1);
  CHECK(h.state.find_booking("bk_far")->status == BookingStatus::expired);
  CHECK(h.run(tutor(), AcceptBooking{"bk_far"}).rejection == Rejection::invalid_transition);
}

TEST_CASE("AcceptedButUnpaidBookingExpiresAtItsStart") {
  DomainHarness h;
  h.book("bk_1", example_start);
  REQUIRE_FALSE(h.run(tutor(), AcceptBooking{"bk_1"}).rejected());
  CHECK(h.advance_to(example_start) == 1);
  CHECK(h.state.find_booking("bk_1")->status == BookingStatus::expired);
}
