#pragma once
// Rebuilding the projections event by event, as the engine does (evolve), optionally watching
// the invariants on the way (replay/invariant_watch.h). Used by verify, rebuild, state and the
// exports that need bookings.
#include <cstdint>
#include <string>

#include "projections/events.h"
#include "projections/state.h"
#include "replay/finding.h"
#include "replay/invariant_watch.h"

namespace tl::replay {

class StateReplay {
 public:
  explicit StateReplay(bool watch_invariants) : watch_invariants_(watch_invariants) {}

  // Applies the next event (evolve); the state is unchanged when a problem is returned.
  Finding apply(const Event& event);
  // After the last event: closes the last command and runs the full check_invariants().
  Finding finish();

  const State& state() const { return state_; }
  uint64_t commands_checked() const { return commands_checked_; }

 private:
  Finding end_command();

  bool watch_invariants_;
  State state_;
  InvariantWatch watch_;
  uint64_t commands_checked_ = 0;
};

}  // namespace tl::replay
