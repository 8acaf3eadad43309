#include "engine/clock.h"

#include <chrono>

namespace tl {

TimeMs SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool ManualClock::set(TimeMs to) {
  TimeMs current = now_.load(std::memory_order_acquire);
  while (to >= current) {
    if (now_.compare_exchange_weak(current, to, std::memory_order_acq_rel)) return true;
  }
  return false;
}

}  // namespace tl
