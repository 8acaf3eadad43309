#include "support/seed_ledger.h"

#include <doctest/doctest.h>

namespace tl::test {
namespace {

constexpr TimeMs S = example_start;

Currency usd() { return *Currency::parse("USD"); }

void ok(const Reply& reply) { REQUIRE_MESSAGE((reply.status == 200 || reply.status == 201), reply.body); }

void book_usd(EngineFixture& f, const std::string& id, TimeMs start) {
  ok(f.run(student("s2"), RequestBooking{id, "t2", "Physics", start, 45, Money{5000, usd()}}));
  const std::string tx_ref = f.accept_and_checkout(id, tutor("t2"), student("s2"));
  ok(f.run(system_actor(), CapturePayment{tx_ref, "ref-" + id, "50.00", "USD"}));
}

void session(EngineFixture& f, const std::string& id, const Actor& starter, const Actor& ender, TimeMs start,
             TimeMs length) {
  f.advance_to(start);
  ok(f.run(starter, StartSession{id}));
  f.advance_to(start + length);
  ok(f.run(ender, EndSession{id, "covered " + id}));
}

}  // namespace

void run_seed_journeys(EngineFixture& f) {
  REQUIRE(f.engine->now() == S - 2 * ms_per_day);
  // Day -2: requests, acceptances and payments.
  f.book("bk_paid", S);
  f.accept_and_pay("bk_paid");
  book_usd(f, "bk_usd", S + ms_per_hour);
  f.book("bk_noshow", S + 2 * ms_per_hour);
  f.accept_and_pay("bk_noshow");
  f.book("bk_cancel", S + 4 * ms_per_hour, student("s3"));
  const std::string cancel_ref = f.accept_and_checkout("bk_cancel", tutor(), student("s3"));
  ok(f.run(system_actor(), CapturePayment{cancel_ref, "ref-bk_cancel-short", "349.00", "ETB"}));
  ok(f.run(system_actor(), CapturePayment{cancel_ref, "ref-bk_cancel", "350.00", "ETB"}));
  f.book("bk_dispute", S + 6 * ms_per_hour);
  f.accept_and_pay("bk_dispute");
  f.book("bk_declined", S + 3 * ms_per_day, student("s3"));
  ok(f.run(tutor(), DeclineBooking{"bk_declined", "fully booked, sorry"}));
  f.book("bk_expired", S + 5 * ms_per_hour, student("s3"));
  f.book("bk_old", S + 20 * ms_per_day);
  f.accept_and_pay("bk_old");

  // Day -1: the unanswered request expires; an hour before the start, a cancellation.
  f.advance_to(S - ms_per_hour);
  ok(f.run(student("s3"), CancelBooking{"bk_cancel", "plans changed, \"sorry\""}));

  // Day 0: sessions, a no-show, a dispute.
  session(f, "bk_paid", student(), tutor(), S, 50 * ms_per_minute);
  session(f, "bk_usd", tutor("t2"), student("s2"), S + ms_per_hour, 45 * ms_per_minute);
  session(f, "bk_dispute", tutor(), student(), S + 6 * ms_per_hour, ms_per_hour);
  f.advance_to(S + 8 * ms_per_hour);
  ok(f.run(student(), OpenDispute{"bk_dispute", "the audio kept dropping, we lost 20 minutes"}));

  // Day 1: releases, a rating.
  f.advance_to(S + ms_per_day + 2 * ms_per_hour);
  ok(f.run(student(), RateSession{"bk_paid", 5, "Great session, thanks"}));

  // Day 2: the dispute is split; withdrawals.
  f.advance_to(S + 2 * ms_per_day);
  ok(f.run(admin(), ResolveDispute{"bk_dispute", 10000}));
  f.advance_to(S + 2 * ms_per_day + ms_per_hour);
  ok(f.run(tutor(), RequestWithdrawal{"wd_1", etb_amount(10000), "CBE 1000123456789"}));
  f.advance_to(S + 2 * ms_per_day + 2 * ms_per_hour);
  ok(f.run(admin(), CompleteWithdrawal{"wd_1"}));
  ok(f.run(tutor(), RequestWithdrawal{"wd_2", etb_amount(5000), "Telebirr 0911000000"}));
  f.advance_to(S + 2 * ms_per_day + 4 * ms_per_hour);
  ok(f.run(admin(), FailWithdrawal{"wd_2", "the bank rejected the account number"}));
  ok(f.run(tutor("t2"), RequestWithdrawal{"wd_usd", Money{1000, usd()}, "IBAN DE00 1234"}));
  ok(f.run(admin(), CompleteWithdrawal{"wd_usd"}));

  // Days 3 to 8: escrows that are still open at the end, of several ages.
  f.advance_to(S + 3 * ms_per_day);
  f.book("bk_mid", S + 15 * ms_per_day, student("s3"));
  f.accept_and_pay("bk_mid", tutor(), student("s3"));
  f.advance_to(S + 5 * ms_per_day);
  f.book("bk_open_dispute", S + 6 * ms_per_day);
  f.accept_and_pay("bk_open_dispute");
  session(f, "bk_open_dispute", student(), student(), S + 6 * ms_per_day, 55 * ms_per_minute);
  f.advance_to(S + 6 * ms_per_day + 2 * ms_per_hour);
  ok(f.run(student(), OpenDispute{"bk_open_dispute", "tutor, left early"}));
  f.advance_to(S + 6 * ms_per_day + 12 * ms_per_hour);
  f.book("bk_late", S + 7 * ms_per_day);
  f.accept_and_pay("bk_late");
  session(f, "bk_late", tutor(), tutor(), S + 7 * ms_per_day, ms_per_hour);
  f.advance_to(S + 7 * ms_per_day + 12 * ms_per_hour);
  f.book("bk_recent", S + 10 * ms_per_day);
  f.accept_and_pay("bk_recent");
  f.advance_to(seed_end);
  f.close();
}

const std::string& shared_seed_dir() {
  // A static object, not a leaked one, so that its folder is removed at exit. The engine is
  // already closed by then: nothing of RocksDB outlives the statics it uses.
  static EngineFixture fixture;
  static const bool built = [] {
    run_seed_journeys(fixture);
    return true;
  }();
  (void)built;
  return fixture.options.data_dir;
}

}  // namespace tl::test
