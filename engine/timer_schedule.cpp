#include "engine/timer_schedule.h"

#include <cassert>

namespace tl {
namespace {

// The second an instant falls in (floor, also for instants before the epoch).
int64_t second_of(TimeMs at) { return at >= 0 ? at / ms_per_second : -((-at + ms_per_second - 1) / ms_per_second); }

}  // namespace

TimerSchedule::TimerSchedule(TimeMs now, uint32_t timers_max) : wheel_(second_of(now), timers_max) {}

bool TimerSchedule::set(uint32_t booking, const std::optional<PendingTimer>& timer) {
  if (booking >= slots_.size()) slots_.resize(static_cast<size_t>(booking) + 1);
  Slot& slot = slots_[booking];
  if (timer && slot.where != Slot::Where::none && slot.due == timer->due && slot.kind == timer->kind) return true;
  remove(booking);
  if (!timer) return true;
  const int64_t due_second = second_of(timer->due);
  if (due_second <= wheel_.now_s()) {
    // Its second has begun (or passed): straight to the exact-order set.
    imminent_.emplace(timer->due, booking);
    slot.where = Slot::Where::imminent;
  } else {
    auto handle = wheel_.schedule(due_second, booking);
    if (!handle) return false;
    slot.handle = *handle;
    slot.where = Slot::Where::wheel;
  }
  slot.due = timer->due;
  slot.kind = timer->kind;
  return true;
}

void TimerSchedule::remove(uint32_t booking) {
  Slot& slot = slots_[booking];
  if (slot.where == Slot::Where::wheel) {
    const bool cancelled = wheel_.cancel(slot.handle);
    assert(cancelled);
    (void)cancelled;
  } else if (slot.where == Slot::Where::imminent) {
    const size_t erased = imminent_.erase({slot.due, booking});
    assert(erased == 1);
    (void)erased;
  }
  slot.where = Slot::Where::none;
}

void TimerSchedule::move_begun_seconds_to_imminent(TimeMs now) {
  const int64_t now_second = second_of(now);
  while (const auto expired = wheel_.pop_expired(now_second)) {
    const auto booking = static_cast<uint32_t>(expired->payload);
    assert(booking < slots_.size() && slots_[booking].where == Slot::Where::wheel);
    Slot& slot = slots_[booking];
    imminent_.emplace(slot.due, booking);
    slot.where = Slot::Where::imminent;
  }
}

std::optional<DueTimer> TimerSchedule::pop_due(TimeMs now) {
  move_begun_seconds_to_imminent(now);
  if (imminent_.empty() || imminent_.begin()->first > now) return std::nullopt;
  const auto [due, booking] = *imminent_.begin();
  imminent_.erase(imminent_.begin());
  Slot& slot = slots_[booking];
  assert(slot.where == Slot::Where::imminent && slot.due == due);
  slot.where = Slot::Where::none;
  return DueTimer{booking, slot.kind, due};
}

std::optional<TimeMs> TimerSchedule::next_due() const {
  std::optional<TimeMs> next;
  if (!imminent_.empty()) next = imminent_.begin()->first;
  if (const auto second = wheel_.next_due_s()) {
    const TimeMs second_start = *second * ms_per_second;
    if (!next || second_start < *next) next = second_start;
  }
  return next;
}

uint64_t TimerSchedule::memory_bytes() const {
  // std::set nodes: three pointers, a colour and the value, rounded by the allocator.
  constexpr uint64_t set_node_bytes = 48;
  return wheel_.memory_bytes() + slots_.capacity() * sizeof(Slot) + imminent_.size() * set_node_bytes;
}

}  // namespace tl
