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

// The booking-local part of evolve: what a booking event changes in the booking itself (status,
// session, escrow, rating, version), without balances, indexes or notifications. evolve() uses
// it; the API uses it to show a booking as a command will leave it, before the batch is applied.
// BookingRequested makes the booking from nothing (the argument is overwritten).
void apply_to_booking(Booking& booking, const Event& event);

// The same for a withdrawal event.
void apply_to_withdrawal(Withdrawal& withdrawal, const Event& event);

}  // namespace tl
