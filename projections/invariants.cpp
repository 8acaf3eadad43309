#include "projections/invariants.h"

#include <map>

#include <fmt/format.h>

namespace tl {
namespace {

// Wide enough that a sum of int64 balances cannot overflow while it is being checked.
__extension__ using WideSum = __int128;

bool escrow_holds_money(EscrowStatus status) {
  return status == EscrowStatus::held || status == EscrowStatus::release_scheduled || status == EscrowStatus::disputed;
}

// Which escrow statuses each booking status allows.
bool statuses_agree(BookingStatus booking, EscrowStatus escrow) {
  switch (booking) {
    case BookingStatus::requested:
    case BookingStatus::accepted:
    case BookingStatus::declined:
    case BookingStatus::expired: return escrow == EscrowStatus::none;
    case BookingStatus::cancelled: return escrow == EscrowStatus::none || escrow == EscrowStatus::refunded;
    case BookingStatus::confirmed:
    case BookingStatus::in_session: return escrow == EscrowStatus::held;
    case BookingStatus::no_show: return escrow == EscrowStatus::refunded;
    case BookingStatus::completed:
      return escrow == EscrowStatus::release_scheduled || escrow == EscrowStatus::disputed ||
             escrow == EscrowStatus::released || escrow == EscrowStatus::refunded || escrow == EscrowStatus::split;
  }
  return false;
}

}  // namespace

std::string check_booking_invariants(const State& state, const Booking& booking) {
  if (!statuses_agree(booking.status, booking.escrow_status)) {
    return fmt::format("booking {} is {} with escrow {}", booking.id, status_name(booking.status),
                       status_name(booking.escrow_status));
  }
  const int64_t held = state.balance(accounts::escrow(booking.id), booking.price.currency);
  const int64_t expected = escrow_holds_money(booking.escrow_status) ? booking.price.amount : 0;
  if (held != expected) {
    return fmt::format("escrow of booking {} holds {} but should hold {} ({})", booking.id, held, expected,
                       status_name(booking.escrow_status));
  }
  if (booking.session_active != (booking.status == BookingStatus::in_session)) {
    return fmt::format("booking {} is {} but its session is {}", booking.id, status_name(booking.status),
                       booking.session_active ? "active" : "inactive");
  }
  return {};
}

std::string check_invariants(const State& state) {
  std::map<std::string_view, WideSum> sums;
  for (const auto& [account, entries] : state.balances) {
    for (const auto& [currency, amount] : entries) {
      if (amount == 0) return fmt::format("account {} keeps a zero {} balance", account, currency.code());
      sums[currency.code()] += amount;
      if (amount < 0 && accounts::must_not_go_negative(account)) {
        return fmt::format("account {} is negative: {} {}", account, amount, currency.code());
      }
    }
  }
  for (const auto& [currency, sum] : sums) {
    if (sum != 0) return fmt::format("balances in {} sum to {}, not 0", currency, static_cast<int64_t>(sum));
  }

  std::map<std::pair<std::string_view, std::string_view>, int64_t> pending;
  for (const auto& booking : state.bookings) {
    if (auto problem = check_booking_invariants(state, booking); !problem.empty()) return problem;
    if (booking.escrow_status == EscrowStatus::release_scheduled) {
      pending[{booking.tutor_id, booking.price.currency.code()}] += booking.tutor_amount.value_or(0);
    }
  }
  for (const auto& [tutor_id, tutor] : state.tutors) {
    for (const auto& [currency, amount] : tutor.pending_release) {
      auto found = pending.find({tutor_id, currency.code()});
      const int64_t expected = found == pending.end() ? 0 : found->second;
      if (amount != expected) {
        return fmt::format("tutor {} shows {} {} pending release, escrows say {}", tutor_id, amount, currency.code(),
                           expected);
      }
      if (found != pending.end()) pending.erase(found);
    }
  }
  for (const auto& [key, amount] : pending) {
    if (amount != 0) return fmt::format("tutor {} misses {} {} of pending release", key.first, amount, key.second);
  }

  std::map<std::pair<std::string_view, std::string_view>, int64_t> withdrawing;
  for (const auto& withdrawal : state.withdrawals) {
    if (withdrawal.status == WithdrawalStatus::requested) {
      withdrawing[{withdrawal.tutor_id, withdrawal.amount.currency.code()}] += withdrawal.amount.amount;
    }
  }
  for (const auto& [tutor_id, tutor] : state.tutors) {
    (void)tutor;
    const std::string account = accounts::tutor_withdrawing(tutor_id);
    auto found = state.balances.find(account);
    if (found == state.balances.end()) continue;
    for (const auto& [currency, amount] : found->second) {
      auto expected = withdrawing.find({tutor_id, currency.code()});
      if (expected == withdrawing.end() || expected->second != amount) {
        return fmt::format("{} holds {} {} but its open withdrawals say {}", account, amount, currency.code(),
                           expected == withdrawing.end() ? 0 : expected->second);
      }
      withdrawing.erase(expected);
    }
  }
  if (!withdrawing.empty()) {
    const auto& [key, amount] = *withdrawing.begin();
    return fmt::format("tutor {} has {} {} in open withdrawals but nothing withdrawing", key.first, amount, key.second);
  }
  return {};
}

}  // namespace tl
