#pragma once
// The invariants of the ledger (issue 3).
//
// A command's events are appended in one batch and applied together; nobody observes the state
// between them. So the invariants are checked at command boundaries: by the tests after every
// command, by the writer (debug builds) after every batch, by replay verify after every command's
// last event. The money invariants (balanced postings, no tutor:*/escrow:* account negative) also
// hold after every single event and are asserted in evolve.
#include <string>

#include "projections/state.h"

namespace tl {

// Empty when every invariant holds, else the first violation found, in one line:
// - the balances of each currency sum to 0;
// - no tutor:* or escrow:* account is negative;
// - every booking satisfies check_booking_invariants;
// - each tutor's pending release equals the net amounts of its escrows in release_scheduled;
// - each tutor's withdrawing account equals the amounts of its withdrawals still requested.
std::string check_invariants(const State& state);

// Empty when this booking's status and escrow status agree, and its escrow account holds
// exactly the captured amount while held / release_scheduled / disputed and 0 otherwise.
std::string check_booking_invariants(const State& state, const Booking& booking);

}  // namespace tl
