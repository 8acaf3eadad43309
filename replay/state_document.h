#pragma once
// `replay state [--at TIME]`: bookings and balances as they stood at a moment, as one JSON
// document (events with `at` <= TIME):
//   {"at": "<RFC 3339>", "position": N,
//    "bookings": [booking objects of ../shared/API.md, in log order],
//    "balances": [{"account", "currency", "balance"}, ... sorted by account, then currency]}
// Balances are credits − debits in minor units; accounts at zero are left out. One booking or
// balance per line, so that two documents diff well.
#include <optional>
#include <string>

#include "projections/state.h"
#include "replay/console.h"

namespace tl::replay {

void write_state_document(const State& state, TimeMs at, TextSink& out);

int run_state(const std::string& data_dir, std::optional<TimeMs> at, TimeMs now, Console& console);

}  // namespace tl::replay
