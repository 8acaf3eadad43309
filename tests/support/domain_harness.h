#pragma once
// Drives the pure core the way the engine does, without RocksDB: decide, place the events
// (positions, versions), round-trip them through the codec, evolve, check the invariants.
#include <string>
#include <vector>

#include "engine/decide.h"
#include "projections/policy.h"
#include "projections/state.h"

namespace tl::test {

Currency etb();
Money etb_amount(int64_t minor_units);
Actor student(std::string id = "s1");
Actor tutor(std::string id = "t1");
Actor admin(std::string id = "a1");

// 2026-11-24T10:00:00Z, the contract's example time.
constexpr TimeMs example_start = 1795514400000;

class DomainHarness {
 public:
  explicit DomainHarness(TimeMs now = example_start - 2 * ms_per_day);

  // Decides at `now` and applies what was decided. Every step checks the full invariants and
  // fails the test (doctest FAIL) if they break or if the codec does not round-trip.
  Decision run(const Actor& actor, CommandBody body);
  // Moves time to `to`, firing every pending timer due by then in due order (at its due time),
  // as the engine's wheel does. Returns how many timer commands appended events.
  int advance_to(TimeMs to);
  int advance_by(TimeMs delta) { return advance_to(now + delta); }

  // Shortcuts for the journeys: each REQUIREs success.
  std::string book(const std::string& booking_id, TimeMs start, int64_t price = 35000,
                   const Actor& by = student(), const std::string& tutor_id = "t1");
  void accept_and_pay(const std::string& booking_id, const Actor& by_tutor = tutor(), const Actor& by_student = student());

  State state;
  Policy policy;
  TimeMs now;
  std::vector<Event> log;
  uint64_t commands_run = 0;
};

// Evolves `log` from an empty state; FAILs on any evolve problem.
State rebuild(const std::vector<Event>& log);

}  // namespace tl::test
