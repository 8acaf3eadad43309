#pragma once
// evolve(state, event): the projections' only way to change. Pure: no I/O, no clock, no policy.
#include <string>

#include "projections/events.h"
#include "projections/state.h"

namespace tl {

// Applies one event. Returns an empty string when applied; otherwise a one-line reason (an event
// that refers to a booking that does not exist, an amount that would overflow, ...), and the state
// is left unchanged. A log written by `decide` never produces a reason; a damaged one can.
[[nodiscard]] std::string evolve(State& state, const Event& event);

}  // namespace tl
