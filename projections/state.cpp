#include "projections/state.h"

#include <cassert>
#include <functional>

namespace tl {

std::string_view status_name(BookingStatus status) {
  switch (status) {
    case BookingStatus::requested: return "requested";
    case BookingStatus::accepted: return "accepted";
    case BookingStatus::confirmed: return "confirmed";
    case BookingStatus::in_session: return "in_session";
    case BookingStatus::completed: return "completed";
    case BookingStatus::cancelled: return "cancelled";
    case BookingStatus::declined: return "declined";
    case BookingStatus::expired: return "expired";
    case BookingStatus::no_show: return "no_show";
  }
  return "unknown";
}

std::string_view status_name(EscrowStatus status) {
  switch (status) {
    case EscrowStatus::none: return "none";
    case EscrowStatus::held: return "held";
    case EscrowStatus::release_scheduled: return "release_scheduled";
    case EscrowStatus::disputed: return "disputed";
    case EscrowStatus::released: return "released";
    case EscrowStatus::refunded: return "refunded";
    case EscrowStatus::split: return "split";
  }
  return "unknown";
}

std::string_view status_name(WithdrawalStatus status) {
  switch (status) {
    case WithdrawalStatus::requested: return "requested";
    case WithdrawalStatus::completed: return "completed";
    case WithdrawalStatus::failed: return "failed";
  }
  return "unknown";
}

std::optional<BookingStatus> parse_booking_status(std::string_view name) {
  for (auto status : {BookingStatus::requested, BookingStatus::accepted, BookingStatus::confirmed,
                      BookingStatus::in_session, BookingStatus::completed, BookingStatus::cancelled,
                      BookingStatus::declined, BookingStatus::expired, BookingStatus::no_show}) {
    if (status_name(status) == name) return status;
  }
  return std::nullopt;
}

State::State(const State& other)
    : bookings(other.bookings),
      withdrawals(other.withdrawals),
      bookings_by_student(other.bookings_by_student),
      bookings_by_tutor(other.bookings_by_tutor),
      withdrawals_by_tutor(other.withdrawals_by_tutor),
      tutors(other.tutors),
      balances(other.balances),
      student_notifications(other.student_notifications),
      tutor_notifications(other.tutor_notifications),
      payments(other.payments),
      position(other.position),
      last_event_at(other.last_event_at) {
  rebuild_indexes();
}

State& State::operator=(const State& other) {
  if (this != &other) {
    State copy(other);
    *this = std::move(copy);
  }
  return *this;
}

StringMap<std::vector<Notification>>& State::notifications_of(Role role) {
  assert(role == Role::student || role == Role::tutor);
  return role == Role::tutor ? tutor_notifications : student_notifications;
}

const StringMap<std::vector<Notification>>& State::notifications_of(Role role) const {
  assert(role == Role::student || role == Role::tutor);
  return role == Role::tutor ? tutor_notifications : student_notifications;
}

namespace {

auto booking_ids(const State& state) {
  return [&state](uint32_t i) -> std::string_view { return state.bookings[i].id; };
}
auto withdrawal_ids(const State& state) {
  return [&state](uint32_t i) -> std::string_view { return state.withdrawals[i].id; };
}

}  // namespace

void State::rebuild_indexes() {
  booking_index.clear();
  booking_index.reserve(bookings.size());
  for (uint32_t i = 0; i < bookings.size(); ++i) booking_index.insert(bookings[i].id, i, booking_ids(*this));
  withdrawal_index.clear();
  withdrawal_index.reserve(withdrawals.size());
  for (uint32_t i = 0; i < withdrawals.size(); ++i) withdrawal_index.insert(withdrawals[i].id, i, withdrawal_ids(*this));
}

bool State::index_last_booking() {
  assert(!bookings.empty() && bookings.size() - 1 <= IdIndex::index_max);
  const auto index = static_cast<uint32_t>(bookings.size() - 1);
  return booking_index.insert(bookings.back().id, index, booking_ids(*this));
}

bool State::index_last_withdrawal() {
  assert(!withdrawals.empty() && withdrawals.size() - 1 <= IdIndex::index_max);
  const auto index = static_cast<uint32_t>(withdrawals.size() - 1);
  return withdrawal_index.insert(withdrawals.back().id, index, withdrawal_ids(*this));
}

std::optional<uint32_t> State::find_booking_index(std::string_view id) const {
  return booking_index.find(id, booking_ids(*this));
}

std::optional<uint32_t> State::find_withdrawal_index(std::string_view id) const {
  return withdrawal_index.find(id, withdrawal_ids(*this));
}

const Booking* State::find_booking(std::string_view id) const {
  const std::optional<uint32_t> found = find_booking_index(id);
  return found ? &bookings[*found] : nullptr;
}

Booking* State::find_booking(std::string_view id) {
  const std::optional<uint32_t> found = find_booking_index(id);
  return found ? &bookings[*found] : nullptr;
}

const Withdrawal* State::find_withdrawal(std::string_view id) const {
  const std::optional<uint32_t> found = find_withdrawal_index(id);
  return found ? &withdrawals[*found] : nullptr;
}

const Tutor* State::find_tutor(std::string_view id) const {
  auto found = tutors.find(id);
  return found == tutors.end() ? nullptr : &found->second;
}

int64_t State::balance(std::string_view account, const Currency& currency) const {
  auto found = balances.find(account);
  if (found == balances.end()) return 0;
  for (const auto& [held_currency, amount] : found->second) {
    if (held_currency == currency) return amount;
  }
  return 0;
}

uint32_t State::index_of(const Booking& booking) const {
  const std::optional<uint32_t> found = find_booking_index(booking.id);
  assert(found && &bookings[*found] == &booking);
  return *found;
}

}  // namespace tl
