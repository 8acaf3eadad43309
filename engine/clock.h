#pragma once
// Where the engine's `now` comes from. The deterministic core never reads a clock: the writer
// reads this once per batch and puts the time into every command.
#include <atomic>

#include "projections/time.h"

namespace tl {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now() const = 0;
  // A manual clock can be moved by the engine (the contract's test clock); the system clock not.
  virtual bool is_manual() const { return false; }
};

class SystemClock final : public Clock {
 public:
  TimeMs now() const override;
};

// Stands still until moved; never moves backwards.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs now() const override { return now_.load(std::memory_order_acquire); }
  bool is_manual() const override { return true; }
  // Moves to `to` if that is not in the past; returns false (and stays) otherwise.
  bool set(TimeMs to);

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace tl
