#pragma once
// The ledger's invariants (projections/invariants.h), re-derived while a log is replayed, at the
// cost of what each event touches rather than the size of the state.
//
// check_invariants() walks the whole state; after every command of a long log that would be
// quadratic. The invariants are local, though: a command changes one booking (or one
// withdrawal), the accounts its postings name, and that booking's or withdrawal's tutor. So:
//   - before each event: it sits on its own stream, its time does not go backwards, a release
//     or dispute resolution splits exactly the price into non-negative parts, and its postings
//     leave no tutor:* or escrow:* account negative (evolve only asserts that);
//   - after each event: every account its postings name moved by exactly the postings (so each
//     currency still sums to 0) and keeps no zero entry;
//   - at each command boundary (consecutive events with one command_id form one command): the
//     booking's status/escrow agreement and escrow balance (check_booking_invariants), and the
//     tutor's pending release and withdrawing balance against running totals kept here.
// The caller runs the full check_invariants() at the end, which covers everything once more.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "projections/events.h"
#include "projections/state.h"

namespace tl::replay {

class InvariantWatch {
 public:
  // Call before evolve(state, event); a non-empty answer is the problem, and evolve must not run.
  std::string before_event(const State& state, const Event& event);
  // Call after evolve applied `event`.
  std::string after_event(const State& state, const Event& event);
  // Call when the command whose events were just applied is complete.
  std::string end_command(const State& state);
  // True between the first event of a command and end_command().
  bool in_command() const { return in_command_; }
  // True when `event` is not part of the command in progress (another command_id or stream):
  // the caller ends that command first.
  bool starts_new_command(const Event& event) const;
  const std::string& command_id() const { return command_id_; }

 private:
  struct BalanceMove {
    std::string account;
    Currency currency;
    int64_t before = 0;
    int64_t delta = 0;
  };
  // The entity a command works on and what it contributed before the command, in its currency.
  struct Subject {
    bool withdrawal = false;
    std::string id;        // booking or withdrawal id
    std::string tutor_id;  // empty when the booking or withdrawal does not exist yet
    Currency currency;
    int64_t contribution_before = 0;  // pending release (booking) or withdrawing (withdrawal)
  };

  void begin_command(const State& state, const Event& event);
  BalanceMove& move_of(const State& state, std::string_view account, const Currency& currency);
  // Adds `delta` to a running total; false on overflow.
  static bool add_to_total(StringMap<CurrencyBalances>& totals, std::string_view tutor_id, const Currency& currency,
                           int64_t delta, int64_t* total);

  bool in_command_ = false;
  std::string command_id_;
  std::string stream_;
  Subject subject_;
  std::vector<BalanceMove> moves_;  // of the current event: the first moves_count_ (entries are reused)
  size_t moves_count_ = 0;
  TimeMs last_at_ = time_ms_min;
  // Running totals per tutor and currency, derived from the bookings' escrow statuses and the
  // withdrawals' statuses, one command at a time.
  StringMap<CurrencyBalances> pending_release_;
  StringMap<CurrencyBalances> withdrawing_;
};

}  // namespace tl::replay
