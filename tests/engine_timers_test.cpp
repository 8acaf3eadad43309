// Timers through the real engine (RocksDB, writer thread, timing wheel) with the manual clock.
#include <doctest/doctest.h>

#include <future>

#include "engine/state_hash.h"
#include "support/engine_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

// Books, pays, starts at the scheduled start and ends 50 minutes later; returns the end time.
TimeMs complete_a_session(EngineFixture& f, const std::string& id, TimeMs start = example_start) {
  f.book(id, start);
  f.accept_and_pay(id);
  f.advance_to(start);
  REQUIRE(f.run(student(), StartSession{id}).status == 200);
  f.advance_to(start + 50 * ms_per_minute);
  REQUIRE(f.run(tutor(), EndSession{id, "done"}).status == 200);
  return start + 50 * ms_per_minute;
}

}  // namespace

TEST_CASE("ReleaseFiresExactlyTwentyFourHoursAfterTheEndNotASecondBefore") {
  EngineFixture f;
  const TimeMs ended = complete_a_session(f, "bk_1");
  f.advance_to(ended + 24 * ms_per_hour - ms_per_second);
  CHECK(f.booking("bk_1").escrow_status == EscrowStatus::release_scheduled);
  CHECK(f.count_events("EscrowReleased") == 0);
  f.advance_to(ended + 24 * ms_per_hour);
  CHECK(f.booking("bk_1").escrow_status == EscrowStatus::released);
  const auto events = f.events();
  const Event& released = events.back();
  CHECK(event_name(released.data) == "EscrowReleased");
  CHECK(released.at == ended + 24 * ms_per_hour);  // to the millisecond, not the next cron hour
  CHECK(released.actor == system_actor());
}

TEST_CASE("ADisputeInsideTheHoldCancelsTheRelease") {
  EngineFixture f;
  const TimeMs ended = complete_a_session(f, "bk_1");
  f.advance_to(ended + 23 * ms_per_hour);
  REQUIRE(f.run(student(), OpenDispute{"bk_1", "audio broke"}).status == 200);
  f.advance_to(ended + 72 * ms_per_hour);
  CHECK(f.booking("bk_1").escrow_status == EscrowStatus::disputed);
  CHECK(f.count_events("EscrowReleased") == 0);
}

TEST_CASE("AutoEndAndNoShowFireOnTime") {
  EngineFixture f;
  f.book("bk_talk", example_start);
  f.accept_and_pay("bk_talk");
  f.book("bk_gone", example_start + 2 * ms_per_hour);
  f.accept_and_pay("bk_gone");
  f.advance_to(example_start + ms_per_minute);
  REQUIRE(f.run(tutor(), StartSession{"bk_talk"}).status == 200);
  // bk_talk: 60 minutes + 15 minutes grace. bk_gone: its window closes 15 minutes after its start.
  f.advance_to(example_start + 75 * ms_per_minute - 1);
  CHECK(f.booking("bk_talk").status == BookingStatus::in_session);
  f.advance_to(example_start + 75 * ms_per_minute);
  CHECK(f.booking("bk_talk").status == BookingStatus::completed);
  CHECK(f.booking("bk_talk").ended_at == example_start + 75 * ms_per_minute);
  f.advance_to(example_start + 2 * ms_per_hour + 15 * ms_per_minute - 1);
  CHECK(f.booking("bk_gone").status == BookingStatus::confirmed);
  f.advance_to(example_start + 2 * ms_per_hour + 15 * ms_per_minute);
  CHECK(f.booking("bk_gone").status == BookingStatus::no_show);
  CHECK(f.booking("bk_gone").escrow_status == EscrowStatus::refunded);
}

TEST_CASE("ABookingYearsAheadIsTakenAndItsTimersFireOnTheSecondThroughARestart") {
  // The contract asks only that scheduled_start be in the future; a booking five years out
  // puts its timers on the wheel's far levels, which must still fire them on the second.
  EngineFixture f;
  const TimeMs years_ahead = example_start + 5 * 366 * ms_per_day;
  f.book("bk_far", years_ahead);
  f.accept_and_pay("bk_far");
  f.restart();  // the far timers come back from the projections
  f.advance_to(years_ahead + 15 * ms_per_minute - ms_per_second);
  CHECK(f.booking("bk_far").status == BookingStatus::confirmed);
  f.advance_to(years_ahead + 15 * ms_per_minute);
  CHECK(f.booking("bk_far").status == BookingStatus::no_show);
  CHECK(f.booking("bk_far").escrow_status == EscrowStatus::refunded);
  CHECK(f.count_events("BookingNoShow") == 1);
}

TEST_CASE("OverdueTimersFireAfterARestartInDueOrderAndNothingFiresTwice") {
  EngineFixture f;
  complete_a_session(f, "bk_a", example_start);
  const TimeMs ended_second = complete_a_session(f, "bk_b", example_start + 2 * ms_per_hour);
  f.close();
  // The server was down for three days: both releases are overdue when it comes back.
  f.start_time = ended_second + 72 * ms_per_hour;
  f.open();
  CHECK(f.engine->recovery().timers_scheduled == 2);
  f.advance_by(0);  // a no-op move: the overdue timers were already fired by the writer on start
  f.advance_by(ms_per_second);
  CHECK(f.booking("bk_a").escrow_status == EscrowStatus::released);
  CHECK(f.booking("bk_b").escrow_status == EscrowStatus::released);
  std::vector<std::string> release_order;
  for (const auto& event : f.events()) {
    if (event_name(event.data) == "EscrowReleased") release_order.emplace_back(booking_id_of(event.data));
  }
  CHECK(release_order == std::vector<std::string>{"bk_a", "bk_b"});
  // Restart again, and again: nothing more fires.
  f.restart();
  f.advance_by(30 * ms_per_day);
  f.restart();
  f.advance_by(ms_per_day);
  CHECK(f.count_events("EscrowReleased") == 2);
  CHECK(state_hash(f.rebuilt_from_log()) == f.engine->read([](const State& s) { return state_hash(s); }));
}

TEST_CASE("TheTestClockNeverMovesBackwards") {
  EngineFixture f;
  const TimeMs now = f.engine->now();
  std::promise<Status> promise;
  auto future = promise.get_future();
  REQUIRE(f.engine->advance_clock(now - 1, [&promise](Status s, TimeMs) { promise.set_value(s); }) ==
          SubmitResult::queued);
  CHECK(future.get().code() == Status::Code::invalid_argument);
  CHECK(f.engine->now() == now);
}

TEST_CASE("ARestartResumesTheTestClockAtTheLastEventIfThatIsLater") {
  EngineFixture f;
  f.book("bk_1", example_start);
  f.advance_to(example_start - 30 * ms_per_hour);
  REQUIRE(f.run(tutor(), AcceptBooking{"bk_1"}).status == 200);
  f.close();
  f.start_time = example_start - 10 * ms_per_day;  // a clock that lags behind the log
  f.open();
  CHECK(f.engine->now() == example_start - 30 * ms_per_hour);
}
