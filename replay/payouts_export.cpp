#include "replay/payouts_export.h"

#include <algorithm>
#include <cassert>
#include <map>

#include <fmt/format.h>

#include "replay/csv_writer.h"
#include "replay/state_at.h"

namespace tl::replay {
namespace {

struct TutorPeriod {
  int64_t released = 0;
  int64_t fees = 0;
  int64_t withdrawn = 0;
};

// Key: tutor id, then currency; std::map keeps the output order.
using PeriodTotals = std::map<std::pair<std::string, Currency>, TutorPeriod>;

bool add(int64_t& total, int64_t amount) {
  const std::optional<int64_t> sum = checked_add(total, amount);
  if (sum) total = *sum;
  return sum.has_value();
}

// Adds what `event` paid out to its tutor; false on overflow.
bool count_event(const State& state, const Event& event, PeriodTotals& totals) {
  if (const auto* completed = std::get_if<WithdrawalCompleted>(&event.data)) {
    for (const Posting& posting : completed->postings) {
      if (posting.credit != accounts::payouts) continue;
      if (!add(totals[{completed->tutor_id, posting.currency}].withdrawn, posting.amount)) return false;
    }
    return true;
  }
  const std::vector<Posting>& postings = postings_of(event.data);
  if (postings.empty()) return true;
  const Booking* booking = state.find_booking(booking_id_of(event.data));
  if (booking == nullptr) return true;  // withdrawal requests and failures pay nobody out
  const std::string tutor_account = accounts::tutor(booking->tutor_id);
  for (const Posting& posting : postings) {
    if (!posting.debit.starts_with("escrow:")) continue;
    TutorPeriod& period = totals[{booking->tutor_id, posting.currency}];
    if (posting.credit == tutor_account && !add(period.released, posting.amount)) return false;
    if (posting.credit == accounts::fees && !add(period.fees, posting.amount)) return false;
  }
  return true;
}

}  // namespace

Finding export_payouts(const LogStore& log, const TimeRange& range, Progress& progress, TextSink& out) {
  StateReplay replay(/*watch_invariants=*/false);
  PeriodTotals totals;
  Finding overflow;
  Finding damage = replay_into(log, range.limits(log.head().position), progress, replay,
                               [&](const EventRecord& record, const Event& event) {
                                 if (!range.contains(event.at) || count_event(replay.state(), event, totals)) return true;
                                 overflow = Finding{record.position, "the period's totals overflow"};
                                 return false;
                               });
  if (overflow.found()) return overflow;
  if (damage.found()) return damage;

  // Every tutor with money in either account at the end of the period shows, even without
  // activity in it.
  const State& state = replay.state();
  for (const auto& [tutor_id, tutor] : state.tutors) {
    (void)tutor;
    for (const std::string& account : {accounts::tutor(tutor_id), accounts::tutor_withdrawing(tutor_id)}) {
      if (auto found = state.balances.find(account); found != state.balances.end()) {
        for (const auto& [currency, amount] : found->second) totals.try_emplace({tutor_id, currency});
      }
    }
  }
  CsvWriter csv(out);
  csv.text("tutor").text("currency").text("released").text("fees").text("withdrawn").text("balance").text("withdrawing");
  csv.end_row();
  for (const auto& [key, period] : totals) {
    const int64_t balance = state.balance(accounts::tutor(key.first), key.second);
    const int64_t withdrawing = state.balance(accounts::tutor_withdrawing(key.first), key.second);
    if (period.released == 0 && period.fees == 0 && period.withdrawn == 0 && balance == 0 && withdrawing == 0) continue;
    csv.text(key.first).text(key.second.code()).number(period.released).number(period.fees).number(period.withdrawn);
    csv.number(balance).number(withdrawing);
    csv.end_row();
  }
  csv.flush();
  return Finding::none();
}

}  // namespace tl::replay
