#pragma once
// The engine's booking timers: at most one per booking (projections/pending_timer.h), kept in a
// hierarchical timing wheel at one-second resolution. Timers whose second has begun move to a
// small ordered set keyed by their exact due millisecond, so that a release fires at its instant
// rather than up to a second late, and ties break by booking index (deterministic order).
//
// Owned by the writer thread; not thread-safe.
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "engine/timing_wheel.h"
#include "projections/pending_timer.h"

namespace tl {

struct DueTimer {
  uint32_t booking = 0;  // booking index
  TimerKind kind = TimerKind::expire_request;
  TimeMs due = 0;
};

class TimerSchedule {
 public:
  TimerSchedule(TimeMs now, uint32_t timers_max);

  // Makes booking `booking`'s timer equal `timer` (nullopt: it has none). Cheap when unchanged.
  // Returns false only when the wheel is full (timers_max pending).
  [[nodiscard]] bool set(uint32_t booking, const std::optional<PendingTimer>& timer);

  // Removes and returns the next timer due at or before `now`, in (due, booking) order.
  std::optional<DueTimer> pop_due(TimeMs now);

  // The earliest instant at which a timer may be due (exact, or the start of its second while it
  // is still in the wheel): the writer sleeps until then.
  std::optional<TimeMs> next_due() const;

  uint64_t size() const { return wheel_.size() + imminent_.size(); }
  uint64_t memory_bytes() const;

 private:
  struct Slot {
    TimerHandle handle;  // valid while in the wheel
    TimeMs due = 0;
    TimerKind kind = TimerKind::expire_request;
    enum class Where : uint8_t { none, wheel, imminent } where = Where::none;
  };

  void remove(uint32_t booking);
  void move_begun_seconds_to_imminent(TimeMs now);

  TimingWheel wheel_;
  std::set<std::pair<TimeMs, uint32_t>> imminent_;  // (due ms, booking) for timers whose second began
  std::vector<Slot> slots_;                         // by booking index
};

}  // namespace tl
