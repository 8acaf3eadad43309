#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "engine/timing_wheel.h"
#include "projections/time.h"

using namespace tl;

namespace {

constexpr uint32_t test_timers_max = 1u << 20;
constexpr int64_t day_s = 24 * 60 * 60;
constexpr int64_t year_s = 365 * day_s;

using Fired = std::vector<std::pair<int64_t, uint64_t>>;  // (due_s, payload) in firing order

Fired advance_collect(TimingWheel& wheel, int64_t to_s) {
  Fired fired;
  wheel.advance(to_s, [&](uint64_t payload, int64_t due_s) { fired.emplace_back(due_s, payload); });
  return fired;
}

// splitmix64: a tiny, fully specified generator, so a seed reproduces on any standard library.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) { return next() % bound; }
  int64_t between(int64_t low, int64_t high) {  // inclusive, high - low < 2^63
    return low + static_cast<int64_t>(below(static_cast<uint64_t>(high - low) + 1));
  }
};

uint64_t base_seed() {
  const char* text = std::getenv("TL_WHEEL_SEED");
  return text ? std::strtoull(text, nullptr, 10) : 20260101;
}

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? INT64_MAX : INT64_MIN;
  return sum;
}

// A due time drawn from the ranges that exercise every level: overdue, this minute, this week,
// far future, and the ends of int64.
int64_t random_due(Random& random, int64_t now_s) {
  switch (random.below(8)) {
    case 0: return saturating_add(now_s, random.between(-100, 0));
    case 1:
    case 2: return saturating_add(now_s, random.between(1, 70));
    case 3:
    case 4: return saturating_add(now_s, random.between(1, 7 * day_s));
    case 5: return saturating_add(now_s, random.between(1, int64_t{1} << 40));
    case 6: return random.below(2) ? INT64_MAX - random.between(0, 3) : INT64_MIN + random.between(0, 3);
    default: return saturating_add(now_s, random.between(-(int64_t{1} << 40), int64_t{1} << 40));
  }
}

int64_t random_advance_target(Random& random, int64_t now_s) {
  switch (random.below(6)) {
    case 0: return saturating_add(now_s, random.between(-50, 0));  // backwards: only overdue fire
    case 1:
    case 2: return saturating_add(now_s, random.between(0, 70));
    case 3: return saturating_add(now_s, random.between(0, 7 * day_s));
    case 4: return saturating_add(now_s, random.between(0, int64_t{1} << 41));
    default: return random.below(4) == 0 ? INT64_MAX : saturating_add(now_s, random.between(0, 5000));
  }
}

// The reference model: a multimap keyed by (due_s, payload), fired in key order, in rounds.
// Timers are identified by ids given out in scheduling order.
struct Reference {
  int64_t now_s;
  std::multimap<std::pair<int64_t, uint64_t>, uint64_t> pending;  // (due_s, payload) -> id
  std::map<uint64_t, std::multimap<std::pair<int64_t, uint64_t>, uint64_t>::iterator> by_id;

  void schedule(uint64_t id, int64_t due_s, uint64_t payload) { by_id[id] = pending.emplace(std::pair{due_s, payload}, id); }
  bool cancel(uint64_t id) {
    const auto found = by_id.find(id);
    if (found == by_id.end()) return false;
    pending.erase(found->second);
    by_id.erase(found);
    return true;
  }
  std::optional<int64_t> next_due_s() const {
    if (pending.empty()) return std::nullopt;
    return pending.begin()->first.first;
  }
  // The documented semantics, written the slow, obvious way: at the current second, fire every
  // pending timer due by then as one round in key order (skipping those a callback cancelled);
  // repeat while callbacks add due timers; then jump to the next due second.
  template <class Fire>
  void advance(int64_t to_s, Fire&& fire) {
    to_s = std::max(to_s, now_s);
    for (;;) {
      std::vector<uint64_t> round;
      for (auto it = pending.begin(); it != pending.end() && it->first.first <= now_s; ++it) round.push_back(it->second);
      if (round.empty()) {
        if (pending.empty() || pending.begin()->first.first > to_s) break;
        now_s = pending.begin()->first.first;
        continue;
      }
      for (const uint64_t id : round) {
        const auto found = by_id.find(id);
        if (found == by_id.end()) continue;
        const auto [due_s, payload] = found->second->first;
        cancel(id);
        fire(payload, due_s);
      }
    }
    now_s = to_s;
  }
};

}  // namespace

TEST_CASE("FiresExactlyAtItsDueSecondNotASecondBefore") {
  const int64_t start_s = 1795514400;  // 2026-11-24T10:00:00Z
  for (const int64_t delay_s : {int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{4095}, int64_t{4096},
                                day_s, 7 * day_s + 13, 3 * year_s}) {
    CAPTURE(delay_s);
    TimingWheel wheel(start_s, test_timers_max);
    REQUIRE(wheel.schedule(start_s + delay_s, 42));
    CHECK(advance_collect(wheel, start_s + delay_s - 1).empty());
    CHECK(wheel.now_s() == start_s + delay_s - 1);
    CHECK(wheel.size() == 1);
    CHECK(advance_collect(wheel, start_s + delay_s) == Fired{{start_s + delay_s, 42}});
    CHECK(wheel.empty());
    CHECK(wheel.invariants_hold());
  }
}

TEST_CASE("SameSecondTimersFireByPayloadAscendingWhateverTheInsertionOrder") {
  TimingWheel wheel(1000, test_timers_max);
  for (const uint64_t payload : {9u, 3u, 7u, 3u, 1u}) REQUIRE(wheel.schedule(1500, payload));
  REQUIRE(wheel.schedule(1499, 100));
  CHECK(advance_collect(wheel, 2000) == Fired{{1499, 100}, {1500, 1}, {1500, 3}, {1500, 3}, {1500, 7}, {1500, 9}});
}

TEST_CASE("OverdueTimersFireAtTheNextAdvanceInDueOrder") {
  TimingWheel wheel(10'000, test_timers_max);
  REQUIRE(wheel.schedule(10'005, 1));
  REQUIRE(wheel.schedule(9'000, 2));
  REQUIRE(wheel.schedule(10'000, 3));  // due exactly now: overdue too
  REQUIRE(wheel.schedule(-5, 4));
  REQUIRE(wheel.schedule(9'000, 0));
  CHECK(wheel.next_due_s() == -5);
  // An advance to the past does not move the time, yet fires what is overdue.
  CHECK(advance_collect(wheel, 0) == Fired{{-5, 4}, {9'000, 0}, {9'000, 2}, {10'000, 3}});
  CHECK(wheel.now_s() == 10'000);
  CHECK(wheel.next_due_s() == 10'005);
  CHECK(advance_collect(wheel, 10'005) == Fired{{10'005, 1}});
}

TEST_CASE("CancellingAFiredOrCancelledHandleIsAHarmlessNoOp") {
  TimingWheel wheel(0, test_timers_max);
  CHECK_FALSE(wheel.cancel(TimerHandle{}));
  const auto fired = wheel.schedule(5, 1);
  const auto cancelled = wheel.schedule(6, 2);
  REQUIRE(fired);
  REQUIRE(cancelled);
  CHECK(wheel.cancel(*cancelled));
  CHECK_FALSE(wheel.cancel(*cancelled));
  CHECK(advance_collect(wheel, 10) == Fired{{5, 1}});
  CHECK_FALSE(wheel.is_pending(*fired));
  CHECK_FALSE(wheel.cancel(*fired));
  // The freed nodes are reused; the stale handles must not reach the new timers.
  const auto reused_a = wheel.schedule(20, 3);
  const auto reused_b = wheel.schedule(21, 4);
  REQUIRE(reused_a);
  REQUIRE(reused_b);
  CHECK((reused_a->index == fired->index || reused_a->index == cancelled->index));
  CHECK_FALSE(wheel.cancel(*fired));
  CHECK_FALSE(wheel.cancel(*cancelled));
  CHECK(wheel.size() == 2);
  CHECK_FALSE(wheel.cancel(TimerHandle{reused_a->index + 1000, reused_a->generation}));  // never handed out
  CHECK(advance_collect(wheel, 30) == Fired{{20, 3}, {21, 4}});
}

TEST_CASE("RandomScheduleCancelAdvanceMatchesSortedMultimapReference") {
  const uint64_t seed0 = base_seed();
  constexpr int seeds = 200;
  constexpr int operations = 3000;
  for (int run = 0; run < seeds; ++run) {
    const uint64_t seed = seed0 + static_cast<uint64_t>(run);
    INFO("seed=" << seed << " (rerun with TL_WHEEL_SEED=" << seed << ")");
    Random random{seed};
    const int64_t start_s = random.below(2) ? 1795514400 : random.between(-(int64_t{1} << 50), int64_t{1} << 50);
    TimingWheel wheel(start_s, test_timers_max);
    Reference reference{start_s, {}, {}};
    std::vector<TimerHandle> handles;  // by id, stale ones included
    const uint64_t payload_range = random.below(2) ? 8 : UINT64_MAX;  // small: many ties
    for (int step = 0; step < operations; ++step) {
      const uint64_t choice = random.below(100);
      if (choice < 50) {
        const int64_t due_s = random_due(random, wheel.now_s());
        const uint64_t payload = random.below(payload_range);
        const auto handle = wheel.schedule(due_s, payload);
        REQUIRE(handle);
        reference.schedule(handles.size(), due_s, payload);
        handles.push_back(*handle);
      } else if (choice < 75) {
        if (handles.empty()) continue;
        const uint64_t id = random.below(handles.size());
        REQUIRE(wheel.cancel(handles[id]) == reference.cancel(id));
      } else {
        const int64_t to_s = random_advance_target(random, wheel.now_s());
        Fired expected;
        reference.advance(to_s, [&](uint64_t payload, int64_t due_s) { expected.emplace_back(due_s, payload); });
        REQUIRE(advance_collect(wheel, to_s) == expected);
        REQUIRE(wheel.now_s() == reference.now_s);
      }
      REQUIRE(wheel.size() == reference.pending.size());
      REQUIRE(wheel.next_due_s() == reference.next_due_s());
      if (step % 97 == 0) REQUIRE(wheel.invariants_hold());
    }
    Fired expected;
    reference.advance(INT64_MAX, [&](uint64_t payload, int64_t due_s) { expected.emplace_back(due_s, payload); });
    REQUIRE(advance_collect(wheel, INT64_MAX) == expected);
    REQUIRE(wheel.empty());
    REQUIRE(wheel.invariants_hold());
  }
}

// INT64_MAX is a real due time (the wheel's last second), not "no live timer": a bucket whose
// earliest live timer is due then, with a cancelled one beside it, still answers next_due_s.
TEST_CASE("CancelBesideTimersDueAtTheLastSecondKeepsThemDue") {
  TimingWheel wheel(0, test_timers_max);
  CHECK(advance_collect(wheel, INT64_MAX).empty());
  std::vector<TimerHandle> handles;
  for (uint64_t payload = 0; payload < 4; ++payload) {
    const auto handle = wheel.schedule(INT64_MAX, payload);
    REQUIRE(handle);
    handles.push_back(*handle);
  }
  REQUIRE(wheel.cancel(handles[1]));
  CHECK(wheel.next_due_s() == INT64_MAX);
  CHECK(wheel.invariants_hold());
  CHECK(advance_collect(wheel, INT64_MAX) == Fired{{INT64_MAX, 0}, {INT64_MAX, 2}, {INT64_MAX, 3}});
  CHECK(wheel.empty());
}

TEST_CASE("ScheduleDuringFireOfAnAlreadyDueTimerFiresInTheSameAdvanceOnceInOrder") {
  TimingWheel wheel(0, test_timers_max);
  const auto first = wheel.schedule(10, 5);
  REQUIRE(first);
  REQUIRE(wheel.schedule(10, 7));
  REQUIRE(wheel.schedule(12, 1));
  std::optional<TimerHandle> later;
  Fired fired;
  wheel.advance(20, [&](uint64_t payload, int64_t due_s) {
    fired.emplace_back(due_s, payload);
    if (payload != 5) return;
    CHECK(wheel.now_s() == 10);
    CHECK_FALSE(wheel.is_pending(*first));  // released before its callback: cannot fire twice
    CHECK_FALSE(wheel.cancel(*first));
    REQUIRE(wheel.schedule(10, 1));   // due now: the next round at second 10
    REQUIRE(wheel.schedule(5, 0));    // in the past: same next round, before (10, 1)
    REQUIRE(wheel.schedule(11, 9));   // later in this advance, in its place
    later = wheel.schedule(25, 3);    // after this advance
    REQUIRE(later);
  });
  CHECK(fired == Fired{{10, 5}, {10, 7}, {5, 0}, {10, 1}, {11, 9}, {12, 1}});
  CHECK(wheel.size() == 1);
  CHECK(wheel.is_pending(*later));
  CHECK(wheel.now_s() == 20);
}

TEST_CASE("CancelDuringFireStopsATimerOfTheSameRoundAndOfLaterSeconds") {
  TimingWheel wheel(0, test_timers_max);
  REQUIRE(wheel.schedule(10, 1));
  const auto same_round = wheel.schedule(10, 2);
  const auto later = wheel.schedule(15, 3);
  REQUIRE(same_round);
  REQUIRE(later);
  REQUIRE(wheel.schedule(10, 4));
  Fired fired;
  wheel.advance(20, [&](uint64_t payload, int64_t due_s) {
    fired.emplace_back(due_s, payload);
    if (payload != 1) return;
    CHECK(wheel.cancel(*same_round));
    CHECK(wheel.cancel(*later));
    // The cancelled node is reused at once; the round must not mistake the new timer for it.
    REQUIRE(wheel.schedule(18, 5));
  });
  CHECK(fired == Fired{{10, 1}, {10, 4}, {18, 5}});
  CHECK(wheel.empty());
  CHECK(wheel.invariants_hold());
}

TEST_CASE("NextDueDuringARoundSkipsTimersCancelledInThatRound") {
  TimingWheel wheel(0, test_timers_max);
  REQUIRE(wheel.schedule(10, 1));
  const auto second = wheel.schedule(10, 2);
  REQUIRE(second);
  REQUIRE(wheel.schedule(12, 3));
  Fired fired;
  wheel.advance(20, [&](uint64_t payload, int64_t due_s) {
    fired.emplace_back(due_s, payload);
    if (payload != 1) return;
    CHECK(wheel.next_due_s() == 10);
    CHECK(wheel.cancel(*second));
    CHECK(wheel.next_due_s() == 12);
  });
  CHECK(fired == Fired{{10, 1}, {12, 3}});
}

TEST_CASE("RandomCallbacksThatScheduleAndCancelMatchTheReferenceRounds") {
  const uint64_t seed0 = base_seed();
  constexpr int seeds = 120;
  constexpr uint64_t timers_per_run_max = 3000;  // bounds the chains of timers made by callbacks
  for (int run = 0; run < seeds; ++run) {
    const uint64_t seed = seed0 + 1000 + static_cast<uint64_t>(run);
    INFO("seed=" << seed << " (rerun with TL_WHEEL_SEED=" << seed - 1000 << ")");
    Random setup{seed};
    const int64_t start_s = setup.between(0, int64_t{1} << 35);
    const uint64_t callback_salt = setup.next();
    // What a callback does depends only on the timer fired, so both sides make the same moves
    // as long as they fire the same timers in the same order. Payloads are ids (unique).
    struct Move {
      std::optional<int64_t> schedule_due_s;
      std::optional<uint64_t> cancel_id;
    };
    const auto move_for = [&](uint64_t payload, int64_t due_s, uint64_t ids_used) {
      Random random{callback_salt ^ (payload * 0x9E3779B97F4A7C15ull) ^ static_cast<uint64_t>(due_s)};
      Move move;
      if (ids_used < timers_per_run_max && random.below(3) != 0) move.schedule_due_s = due_s + random.between(-20, 300);
      // Half the cancels aim at recent ids: often timers of the round being fired.
      if (random.below(3) == 0) {
        move.cancel_id = random.below(2) ? random.below(ids_used) : ids_used - 1 - random.below(std::min<uint64_t>(ids_used, 8));
      }
      return move;
    };

    TimingWheel wheel(start_s, test_timers_max);
    std::vector<TimerHandle> handles;
    Fired wheel_log;
    std::vector<bool> wheel_cancels;
    Reference reference{start_s, {}, {}};
    uint64_t reference_ids = 0;
    Fired reference_log;
    std::vector<bool> reference_cancels;

    Random random{seed};
    for (int step = 0; step < 200; ++step) {
      if (random.below(3) != 0) {
        const int64_t due_s = wheel.now_s() + random.between(-30, 400);
        const auto handle = wheel.schedule(due_s, handles.size());
        REQUIRE(handle);
        reference.schedule(reference_ids, due_s, reference_ids);
        ++reference_ids;
        handles.push_back(*handle);
        continue;
      }
      const int64_t to_s = wheel.now_s() + random.between(0, 600);
      wheel.advance(to_s, [&](uint64_t payload, int64_t due_s) {
        wheel_log.emplace_back(due_s, payload);
        const Move move = move_for(payload, due_s, handles.size());
        if (move.schedule_due_s) {
          const auto handle = wheel.schedule(*move.schedule_due_s, handles.size());
          REQUIRE(handle);
          handles.push_back(*handle);
        }
        if (move.cancel_id) wheel_cancels.push_back(wheel.cancel(handles[*move.cancel_id]));
      });
      reference.advance(to_s, [&](uint64_t payload, int64_t due_s) {
        reference_log.emplace_back(due_s, payload);
        const Move move = move_for(payload, due_s, reference_ids);
        if (move.schedule_due_s) {
          reference.schedule(reference_ids, *move.schedule_due_s, reference_ids);
          ++reference_ids;
        }
        if (move.cancel_id) reference_cancels.push_back(reference.cancel(*move.cancel_id));
      });
      REQUIRE(wheel_log == reference_log);
      REQUIRE(wheel_cancels == reference_cancels);
      REQUIRE(wheel.size() == reference.pending.size());
      REQUIRE(wheel.next_due_s() == reference.next_due_s());
      if (step % 97 == 0) REQUIRE(wheel.invariants_hold());
    }
    // Each timer fired at most once: payloads are unique ids.
    std::vector<uint64_t> payloads;
    for (const auto& entry : wheel_log) payloads.push_back(entry.second);
    std::sort(payloads.begin(), payloads.end());
    CHECK(std::adjacent_find(payloads.begin(), payloads.end()) == payloads.end());
  }
}

TEST_CASE("FiringOrderIsTheSameAfterARestartRebuildAndWhateverTheStepSizes") {
  Random random{base_seed() + 77};
  const int64_t start_s = 1795514400;
  std::vector<std::pair<int64_t, uint64_t>> timers;
  for (int i = 0; i < 4000; ++i) timers.emplace_back(start_s + random.between(1, 30 * day_s), random.below(50));

  // Uninterrupted run, one second at a time for the first hour, then in random steps.
  TimingWheel uninterrupted(start_s, test_timers_max);
  for (const auto& [due_s, payload] : timers) REQUIRE(uninterrupted.schedule(due_s, payload));
  Fired expected;
  for (int64_t t = start_s; t < start_s + 3600; ++t) {
    const Fired part = advance_collect(uninterrupted, t);
    expected.insert(expected.end(), part.begin(), part.end());
  }
  while (!uninterrupted.empty()) {
    const Fired part = advance_collect(uninterrupted, uninterrupted.now_s() + random.between(1, 100'000));
    expected.insert(expected.end(), part.begin(), part.end());
  }
  Fired sorted = expected;
  std::sort(sorted.begin(), sorted.end());
  CHECK(expected == sorted);

  // A run that stops at `crash_s`, and a rebuilt wheel that starts later (at `restart_s`) from
  // the timers still pending, inserted in another order; the overdue ones fire at once.
  const int64_t crash_s = start_s + 10 * day_s;
  const int64_t restart_s = crash_s + 2 * day_s;
  TimingWheel before(start_s, test_timers_max);
  for (const auto& [due_s, payload] : timers) REQUIRE(before.schedule(due_s, payload));
  Fired resumed = advance_collect(before, crash_s);
  std::vector<std::pair<int64_t, uint64_t>> remaining;
  for (const auto& timer : timers) {
    if (timer.first > crash_s) remaining.push_back(timer);
  }
  std::reverse(remaining.begin(), remaining.end());
  TimingWheel rebuilt(restart_s, test_timers_max);
  for (const auto& [due_s, payload] : remaining) REQUIRE(rebuilt.schedule(due_s, payload));
  const Fired after = advance_collect(rebuilt, start_s + 31 * day_s);
  resumed.insert(resumed.end(), after.begin(), after.end());
  CHECK(resumed == expected);
}

TEST_CASE("HugeHorizonsYear3000AndTheEndsOfInt64FireInOrder") {
  const auto year_3000_ms = parse_rfc3339("3000-01-01T00:00:00Z");
  REQUIRE(year_3000_ms);
  const int64_t year_3000_s = *year_3000_ms / 1000;
  const int64_t start_s = 1795514400;
  TimingWheel wheel(start_s, test_timers_max);
  REQUIRE(wheel.schedule(INT64_MAX, 4));
  REQUIRE(wheel.schedule(year_3000_s, 2));
  REQUIRE(wheel.schedule(year_3000_s + 1, 3));
  REQUIRE(wheel.schedule(INT64_MIN, 0));
  REQUIRE(wheel.schedule(start_s + 1, 1));
  CHECK(wheel.next_due_s() == INT64_MIN);
  CHECK(advance_collect(wheel, start_s + 1) == Fired{{INT64_MIN, 0}, {start_s + 1, 1}});
  CHECK(wheel.next_due_s() == year_3000_s);
  CHECK(advance_collect(wheel, year_3000_s - 1).empty());
  CHECK(advance_collect(wheel, year_3000_s) == Fired{{year_3000_s, 2}});
  CHECK(advance_collect(wheel, INT64_MAX - 1) == Fired{{year_3000_s + 1, 3}});
  CHECK(advance_collect(wheel, INT64_MAX) == Fired{{INT64_MAX, 4}});
  CHECK(wheel.now_s() == INT64_MAX);
  CHECK(wheel.empty());
}

TEST_CASE("ThirtyYearJumpSkipsEmptyTimeInsteadOfSteppingSeconds") {
  const int64_t start_s = 1795514400;
  TimingWheel wheel(start_s, test_timers_max);
  CHECK(advance_collect(wheel, start_s + 30 * year_s).empty());
  CHECK(wheel.stats().slots_expired == 0);
  REQUIRE(wheel.schedule(wheel.now_s() + year_s, 1));
  REQUIRE(wheel.schedule(wheel.now_s() + 10 * year_s, 2));
  REQUIRE(wheel.schedule(wheel.now_s() + 30 * year_s, 3));
  const int64_t end_s = wheel.now_s() + 30 * year_s;
  CHECK(advance_collect(wheel, end_s).size() == 3);
  // Each timer costs at most one slot per level on its way down, never one per second.
  CHECK(wheel.stats().slots_expired <= 3 * TimingWheel::levels);
  CHECK(wheel.stats().timers_cascaded <= 3 * (TimingWheel::levels - 1));
  CHECK(wheel.stats().timers_fired == 3);
}

TEST_CASE("NextDueIsExactAcrossLevelsAndAfterTheEarliestIsCancelled") {
  TimingWheel wheel(0, test_timers_max);
  CHECK_FALSE(wheel.next_due_s());
  // All in one level-2 slot (slots_per_level^2 seconds wide): the answer must be the exact
  // second, not the start of the slot.
  const int64_t slot_s = int64_t{1} << (2 * TimingWheel::slot_bits);
  const int64_t base_s = 3 * slot_s;
  const auto a = wheel.schedule(base_s + slot_s / 2, 1);
  const auto b = wheel.schedule(base_s + 1, 2);
  const auto c = wheel.schedule(base_s + slot_s - 1, 3);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(wheel.next_due_s() == base_s + 1);
  CHECK(wheel.cancel(*b));
  CHECK(wheel.next_due_s() == base_s + slot_s / 2);
  CHECK(wheel.cancel(*a));
  CHECK(wheel.next_due_s() == base_s + slot_s - 1);
  REQUIRE(wheel.schedule(base_s + slot_s / 4, 4));
  CHECK(wheel.next_due_s() == base_s + slot_s / 4);
  CHECK(advance_collect(wheel, base_s + slot_s / 4 - 1).empty());
  CHECK(wheel.next_due_s() == base_s + slot_s / 4);
  CHECK(wheel.cancel(*c));
  CHECK(advance_collect(wheel, base_s + slot_s / 4) == Fired{{base_s + slot_s / 4, 4}});
  CHECK_FALSE(wheel.next_due_s());
  CHECK(wheel.invariants_hold());
}

TEST_CASE("CancelledTimersGiveTheirBucketMemoryBack") {
  constexpr uint32_t timers = 200'000;
  TimingWheel wheel(0, timers);
  std::vector<TimerHandle> handles;
  for (uint32_t i = 0; i < timers; ++i) handles.push_back(*wheel.schedule(5 * day_s + i % 1000, i));  // few slots
  const uint64_t full_bytes = wheel.memory_bytes();
  const uint64_t pool_bytes = wheel.pool_bytes();
  CHECK(full_bytes - pool_bytes >= timers * sizeof(uint32_t));  // the buckets hold every index
  for (uint32_t i = 10; i < timers; ++i) REQUIRE(wheel.cancel(handles[i]));
  CHECK(wheel.size() == 10);
  CHECK(wheel.pool_bytes() == pool_bytes);                    // the pool is a high-water mark
  CHECK(wheel.memory_bytes() - pool_bytes < 64 * 1024 + 100'000);  // the buckets are not
  CHECK(wheel.invariants_hold());
  CHECK(advance_collect(wheel, 6 * day_s).size() == 10);
}

TEST_CASE("FullPoolRefusesToScheduleUntilATimerLeaves") {
  TimingWheel wheel(0, 3);
  const auto first = wheel.schedule(10, 1);
  REQUIRE(first);
  REQUIRE(wheel.schedule(11, 2));
  REQUIRE(wheel.schedule(12, 3));
  CHECK_FALSE(wheel.schedule(13, 4));
  CHECK(wheel.size() == 3);
  CHECK(wheel.cancel(*first));
  CHECK(wheel.schedule(13, 4));
  CHECK_FALSE(wheel.schedule(14, 5));
  CHECK(advance_collect(wheel, 11) == Fired{{11, 2}});
  CHECK(wheel.schedule(14, 5));
  CHECK(wheel.pool_bytes() == 3 * 24u);  // a wheel for 3 timers holds 3 nodes, not a whole chunk
}

TEST_CASE("ClearCancelsEveryTimerAndMakesTheirHandlesStale") {
  TimingWheel wheel(100, test_timers_max);
  std::vector<TimerHandle> handles;
  for (int64_t i = 0; i < 500; ++i) handles.push_back(*wheel.schedule(100 + i * 997 - 50, static_cast<uint64_t>(i)));
  wheel.clear();
  CHECK(wheel.empty());
  CHECK_FALSE(wheel.next_due_s());
  for (const TimerHandle handle : handles) CHECK_FALSE(wheel.cancel(handle));
  CHECK(advance_collect(wheel, INT64_MAX).empty());
  REQUIRE(wheel.schedule(INT64_MAX, 1));
  CHECK(wheel.invariants_hold());
}

TEST_CASE("PopExpiredLetsTheWriterBoundTheTimersHandledPerTurn") {
  TimingWheel wheel(0, test_timers_max);
  for (uint64_t i = 0; i < 10; ++i) REQUIRE(wheel.schedule(5, 9 - i));
  constexpr int timers_per_turn_max = 4;
  std::vector<uint64_t> turn;
  for (int i = 0; i < timers_per_turn_max; ++i) turn.push_back(wheel.pop_expired(100)->payload);
  CHECK(turn == std::vector<uint64_t>{0, 1, 2, 3});
  CHECK(wheel.next_due_s() == 5);  // the rest of the round is still pending
  CHECK(wheel.size() == 6);
  CHECK(wheel.now_s() == 5);
  CHECK(advance_collect(wheel, 100).size() == 6);
  CHECK(wheel.now_s() == 100);
}

TEST_CASE("PoolMemoryStaysUnder64BytesPerPendingTimer") {
  constexpr uint32_t timers = 1'000'000;
  TimingWheel wheel(0, timers);
  Random random{base_seed() + 5};
  for (uint32_t i = 0; i < timers; ++i) REQUIRE(wheel.schedule(random.between(1, 7 * day_s), i));
  CHECK_FALSE(wheel.schedule(1, 0));
  const double pool_bytes_per_timer = static_cast<double>(wheel.pool_bytes()) / wheel.size();
  const double all_bytes_per_timer = static_cast<double>(wheel.memory_bytes()) / wheel.size();
  CAPTURE(pool_bytes_per_timer);
  CAPTURE(all_bytes_per_timer);
  CHECK(pool_bytes_per_timer < 26.0);  // 24-byte nodes plus the unfilled end of the last chunk
  CHECK(all_bytes_per_timer + sizeof(TimerHandle) < 64.0);  // with the caller's handle
}

TEST_CASE("CancelledTimersInFarSlotsAreTakenBackSoTheirPoolStaysBounded") {
  // The engine's pattern: every booking transition cancels its timer and schedules the next one,
  // many of them days ahead in slots that will not expire for a long time.
  constexpr uint32_t timers = 1000;
  TimingWheel wheel(0, timers);
  Random random{base_seed() + 7};
  std::vector<TimerHandle> handles;
  for (uint32_t i = 0; i < timers; ++i) handles.push_back(*wheel.schedule(random.between(day_s, 30 * day_s), i));
  const uint64_t pool_bytes = wheel.pool_bytes();
  for (uint32_t step = 0; step < 200'000; ++step) {
    const uint32_t i = static_cast<uint32_t>(random.below(timers));
    REQUIRE(wheel.cancel(handles[i]));
    const auto handle = wheel.schedule(random.between(day_s, 30 * day_s), i);
    REQUIRE(handle);  // never refused while fewer than timers_max are pending
    handles[i] = *handle;
    if (step % 9973 == 0) REQUIRE(wheel.invariants_hold());
  }
  CHECK(wheel.size() == timers);
  CHECK(wheel.pool_bytes() == pool_bytes);
  CHECK(wheel.invariants_hold());
  CHECK(advance_collect(wheel, 31 * day_s).size() == timers);
}

TEST_CASE("ASlotLeftWithOnlyCancelledTimersNoLongerCountsForNextDue") {
  TimingWheel wheel(0, test_timers_max);
  std::vector<TimerHandle> early;
  for (uint64_t i = 0; i < 300; ++i) early.push_back(*wheel.schedule(3 * day_s + static_cast<int64_t>(i), i));
  REQUIRE(wheel.schedule(20 * day_s, 999));
  CHECK(wheel.next_due_s() == 3 * day_s);
  for (const TimerHandle handle : early) REQUIRE(wheel.cancel(handle));
  CHECK(wheel.next_due_s() == 20 * day_s);
  CHECK(wheel.invariants_hold());
  CHECK(advance_collect(wheel, 30 * day_s) == Fired{{20 * day_s, 999}});
}
