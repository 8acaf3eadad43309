#include "replay/invariant_watch.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "projections/invariants.h"

namespace tl::replay {
namespace {

constexpr std::string_view booking_stream_prefix = "booking-";
constexpr std::string_view tutor_stream_prefix = "tutor-";

// The withdrawal id and tutor of a withdrawal event; nullopt for every other event.
struct WithdrawalRef {
  std::string_view withdrawal_id;
  std::string_view tutor_id;
};

std::optional<WithdrawalRef> withdrawal_of(const EventData& data) {
  return std::visit(
      [](const auto& event) -> std::optional<WithdrawalRef> {
        if constexpr (requires { event.withdrawal_id; }) {
          return WithdrawalRef{event.withdrawal_id, event.tutor_id};
        } else {
          return std::nullopt;
        }
      },
      data);
}

bool is_stream_of(std::string_view stream, std::string_view prefix, std::string_view id) {
  return stream.size() == prefix.size() + id.size() && stream.starts_with(prefix) && stream.ends_with(id);
}

// What a booking adds to its tutor's pending release: the net amount while release_scheduled.
int64_t pending_contribution(const Booking& booking) {
  return booking.escrow_status == EscrowStatus::release_scheduled ? booking.tutor_amount.value_or(0) : 0;
}

// What a withdrawal holds in its tutor's withdrawing account: its amount while requested.
int64_t withdrawing_contribution(const Withdrawal& withdrawal) {
  return withdrawal.status == WithdrawalStatus::requested ? withdrawal.amount.amount : 0;
}

int64_t pending_release_of(const State& state, std::string_view tutor_id, const Currency& currency) {
  const Tutor* tutor = state.find_tutor(tutor_id);
  if (tutor == nullptr) return 0;
  for (const auto& [entry_currency, amount] : tutor->pending_release) {
    if (entry_currency == currency) return amount;
  }
  return 0;
}

std::string money_text(int64_t amount, const Currency& currency) { return format_money(Money{amount, currency}); }

// The amounts a release or a dispute resolution fixes are never negative and add up to the
// price (decide splits the escrow so); evolve relies on it for the tutors' pending release.
std::string check_split(const State& state, const EventData& data) {
  int64_t parts[3] = {0, 0, 0};
  if (const auto* scheduled = std::get_if<EscrowReleaseScheduled>(&data)) {
    parts[0] = scheduled->tutor_amount;
    parts[1] = scheduled->fee_amount;
  } else if (const auto* resolved = std::get_if<DisputeResolved>(&data)) {
    parts[0] = resolved->tutor_amount;
    parts[1] = resolved->fee_amount;
    parts[2] = resolved->refund_amount;
  } else {
    return {};
  }
  const Booking* booking = state.find_booking(booking_id_of(data));
  if (booking == nullptr) return {};  // evolve refuses it with its own reason
  int64_t sum = 0;
  for (const int64_t part : parts) {
    const std::optional<int64_t> added = checked_add(sum, part);
    if (part < 0 || !added) return fmt::format("{} splits the escrow into a negative amount", event_name(data));
    sum = *added;
  }
  if (sum != booking->price.amount) {
    return fmt::format("{} splits {} but the price is {}", event_name(data), money_text(sum, booking->price.currency),
                       format_money(booking->price));
  }
  return {};
}

}  // namespace

bool InvariantWatch::add_to_total(StringMap<CurrencyBalances>& totals, std::string_view tutor_id,
                                  const Currency& currency, int64_t delta, int64_t* total) {
  auto found = totals.find(tutor_id);
  if (found == totals.end()) found = totals.emplace(std::string(tutor_id), CurrencyBalances{}).first;
  auto entry = std::find_if(found->second.begin(), found->second.end(), [&](const auto& e) { return e.first == currency; });
  if (entry == found->second.end()) entry = found->second.insert(found->second.end(), {currency, 0});
  const std::optional<int64_t> sum = checked_add(entry->second, delta);
  if (!sum) return false;
  entry->second = *sum;
  *total = *sum;
  return true;
}

InvariantWatch::BalanceMove& InvariantWatch::move_of(const State& state, std::string_view account,
                                                     const Currency& currency) {
  for (size_t i = 0; i < moves_count_; ++i) {
    if (moves_[i].account == account && moves_[i].currency == currency) return moves_[i];
  }
  if (moves_count_ == moves_.size()) moves_.emplace_back();
  BalanceMove& move = moves_[moves_count_++];
  move.account.assign(account);  // reuses the entry's capacity
  move.currency = currency;
  move.before = state.balance(account, currency);
  move.delta = 0;
  return move;
}

bool InvariantWatch::starts_new_command(const Event& event) const {
  return !in_command_ || event.command_id != command_id_ || event.stream != stream_;
}

std::string InvariantWatch::before_event(const State& state, const Event& event) {
  assert(!in_command_ || !starts_new_command(event));
  if (event.at < last_at_) {
    return fmt::format("its time {} is before the time of the event before it, {}", format_rfc3339_millis(event.at),
                       format_rfc3339_millis(last_at_));
  }
  if (const std::optional<WithdrawalRef> withdrawal = withdrawal_of(event.data)) {
    if (!is_stream_of(event.stream, tutor_stream_prefix, withdrawal->tutor_id)) {
      return fmt::format("{} of tutor {} is on stream {}", event_name(event.data), withdrawal->tutor_id, event.stream);
    }
  } else if (!is_stream_of(event.stream, booking_stream_prefix, booking_id_of(event.data))) {
    return fmt::format("{} of booking {} is on stream {}", event_name(event.data), booking_id_of(event.data), event.stream);
  }
  if (std::string problem = check_split(state, event.data); !problem.empty()) return problem;
  if (!in_command_) begin_command(state, event);

  moves_count_ = 0;
  for (const Posting& posting : postings_of(event.data)) {
    // evolve refuses these with its own reason; nothing to watch then.
    if (posting.amount <= 0 || posting.debit == posting.credit) {
      moves_count_ = 0;
      return {};
    }
    move_of(state, posting.debit, posting.currency).delta -= posting.amount;
    move_of(state, posting.credit, posting.currency).delta += posting.amount;
  }
  for (size_t i = 0; i < moves_count_; ++i) {
    const BalanceMove& move = moves_[i];
    const std::optional<int64_t> after = checked_add(move.before, move.delta);
    if (!after) {
      moves_count_ = 0;  // evolve refuses an overflow with its own reason
      return {};
    }
    if (*after < 0 && accounts::must_not_go_negative(move.account)) {
      return fmt::format("its postings would take account {} to {}", move.account, money_text(*after, move.currency));
    }
  }
  return {};
}

void InvariantWatch::begin_command(const State& state, const Event& event) {
  in_command_ = true;
  command_id_ = event.command_id;
  stream_ = event.stream;
  subject_ = Subject{};
  if (const std::optional<WithdrawalRef> ref = withdrawal_of(event.data)) {
    subject_.withdrawal = true;
    subject_.id = ref->withdrawal_id;
    if (const Withdrawal* withdrawal = state.find_withdrawal(ref->withdrawal_id)) {
      subject_.tutor_id = withdrawal->tutor_id;
      subject_.currency = withdrawal->amount.currency;
      subject_.contribution_before = withdrawing_contribution(*withdrawal);
    }
    return;
  }
  subject_.id = booking_id_of(event.data);
  if (const Booking* booking = state.find_booking(subject_.id)) {
    subject_.tutor_id = booking->tutor_id;
    subject_.currency = booking->price.currency;
    subject_.contribution_before = pending_contribution(*booking);
  }
}

std::string InvariantWatch::after_event(const State& state, const Event& event) {
  assert(in_command_);
  for (size_t i = 0; i < moves_count_; ++i) {
    const BalanceMove& move = moves_[i];
    const int64_t after = state.balance(move.account, move.currency);
    if (after - move.before != move.delta) {
      return fmt::format("account {} moved by {} but the postings say {}", move.account,
                         money_text(after - move.before, move.currency), money_text(move.delta, move.currency));
    }
    if (auto found = state.balances.find(move.account); found != state.balances.end()) {
      for (const auto& [currency, amount] : found->second) {
        if (amount == 0) return fmt::format("account {} keeps a zero {} balance", move.account, currency.code());
      }
    }
  }
  last_at_ = event.at;
  return {};
}

std::string InvariantWatch::end_command(const State& state) {
  assert(in_command_);
  in_command_ = false;
  const Subject& subject = subject_;
  if (subject.withdrawal) {
    const Withdrawal* withdrawal = state.find_withdrawal(subject.id);
    if (withdrawal == nullptr) return fmt::format("withdrawal {} does not exist after its command", subject.id);
    if (!subject.tutor_id.empty() && (subject.tutor_id != withdrawal->tutor_id || !(subject.currency == withdrawal->amount.currency))) {
      return fmt::format("withdrawal {} changed its tutor or currency", subject.id);
    }
    const Currency& currency = withdrawal->amount.currency;
    const std::optional<int64_t> delta = checked_sub(withdrawing_contribution(*withdrawal), subject.contribution_before);
    int64_t total = 0;
    if (!delta || !add_to_total(withdrawing_, withdrawal->tutor_id, currency, *delta, &total)) {
      return fmt::format("the open withdrawals of tutor {} overflow", withdrawal->tutor_id);
    }
    const std::string account = accounts::tutor_withdrawing(withdrawal->tutor_id);
    const int64_t held = state.balance(account, currency);
    if (held != total) {
      return fmt::format("{} holds {} but its open withdrawals say {}", account, money_text(held, currency),
                         money_text(total, currency));
    }
    return {};
  }
  const Booking* booking = state.find_booking(subject.id);
  if (booking == nullptr) return fmt::format("booking {} does not exist after its command", subject.id);
  if (std::string problem = check_booking_invariants(state, *booking); !problem.empty()) return problem;
  if (!subject.tutor_id.empty() && (subject.tutor_id != booking->tutor_id || !(subject.currency == booking->price.currency))) {
    return fmt::format("booking {} changed its tutor or currency", subject.id);
  }
  const Currency& currency = booking->price.currency;
  const std::optional<int64_t> delta = checked_sub(pending_contribution(*booking), subject.contribution_before);
  int64_t total = 0;
  if (!delta || !add_to_total(pending_release_, booking->tutor_id, currency, *delta, &total)) {
    return fmt::format("the pending release of tutor {} overflows", booking->tutor_id);
  }
  const int64_t shown = pending_release_of(state, booking->tutor_id, currency);
  if (shown != total) {
    return fmt::format("tutor {} shows {} pending release, its escrows say {}", booking->tutor_id,
                       money_text(shown, currency), money_text(total, currency));
  }
  return {};
}

}  // namespace tl::replay
