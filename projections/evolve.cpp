#include "projections/evolve.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>


namespace tl {
namespace {

// Adds `delta` to the balance of `account` in `currency`; false on overflow (nothing changed).
bool add_to_balance(State& state, std::string_view account, const Currency& currency, int64_t delta) {
  auto found = state.balances.find(account);
  if (found == state.balances.end()) {
    if (delta == 0) return true;
    state.balances.emplace(std::string(account), CurrencyBalances{{currency, delta}});
    return true;
  }
  auto& entries = found->second;
  auto entry = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == currency; });
  if (entry == entries.end()) {
    if (delta != 0) entries.emplace_back(currency, delta);
    return true;
  }
  auto sum = checked_add(entry->second, delta);
  if (!sum) return false;
  entry->second = *sum;
  if (entry->second == 0) {
    entries.erase(entry);
    if (entries.empty()) state.balances.erase(found);
  }
  return true;
}

// Checks that every posting can be applied without overflow before applying any.
std::string check_postings(const State& state, const std::vector<Posting>& postings) {
  for (const auto& posting : postings) {
    if (posting.amount <= 0) return fmt::format("posting of non-positive amount {}", posting.amount);
    if (posting.debit == posting.credit) return "posting with the same debit and credit account";
    if (!checked_sub(state.balance(posting.debit, posting.currency), posting.amount) ||
        !checked_add(state.balance(posting.credit, posting.currency), posting.amount)) {
      return "posting would overflow a balance";
    }
  }
  return {};
}

// The money invariants hold after every event: postings are balanced by construction, and no
// account that must not go negative does (asserted here; replay verify reports it in release).
void apply_postings(State& state, const std::vector<Posting>& postings) {
  for (const auto& posting : postings) {
    const bool debited = add_to_balance(state, posting.debit, posting.currency, -posting.amount);
    const bool credited = add_to_balance(state, posting.credit, posting.currency, posting.amount);
    assert(debited && credited);  // check_postings ran first
    assert(!accounts::must_not_go_negative(posting.debit) || state.balance(posting.debit, posting.currency) >= 0);
    (void)debited;
    (void)credited;
  }
}

void add_pending_release(Tutor& tutor, const Currency& currency, int64_t delta) {
  auto entry = std::find_if(tutor.pending_release.begin(), tutor.pending_release.end(),
                            [&](const auto& e) { return e.first == currency; });
  if (entry == tutor.pending_release.end()) {
    if (delta != 0) tutor.pending_release.emplace_back(currency, delta);
    return;
  }
  entry->second += delta;
  assert(entry->second >= 0);
  if (entry->second == 0) tutor.pending_release.erase(entry);
}

void notify(State& state, std::string_view user, const Event& event, uint32_t subject) {
  state.notifications[std::string(user)].push_back(
      Notification{event.position, event.at, subject, static_cast<uint8_t>(event.data.index())});
}

// Notifies the party of the booking that did not act (both when the system acted).
void notify_other_party(State& state, const Booking& booking, const Event& event, uint32_t index) {
  const bool by_student = event.actor.role == Role::student && event.actor.id == booking.student_id;
  const bool by_tutor = event.actor.role == Role::tutor && event.actor.id == booking.tutor_id;
  if (!by_tutor) notify(state, booking.tutor_id, event, index);
  if (!by_student) notify(state, booking.student_id, event, index);
}

void notify_both(State& state, const Booking& booking, const Event& event, uint32_t index) {
  notify(state, booking.student_id, event, index);
  notify(state, booking.tutor_id, event, index);
}

class BookingEvolver {
 public:
  BookingEvolver(State& state, const Event& event, Booking& booking, uint32_t index)
      : state_(state), event_(event), booking_(booking), index_(index) {}

  std::string operator()(const BookingAccepted&) {
    booking_.status = BookingStatus::accepted;
    notify(state_, booking_.student_id, event_, index_);
    return {};
  }
  std::string operator()(const BookingDeclined&) {
    booking_.status = BookingStatus::declined;
    notify(state_, booking_.student_id, event_, index_);
    return {};
  }
  std::string operator()(const BookingCancelled&) {
    booking_.status = BookingStatus::cancelled;
    notify_other_party(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const BookingExpired&) {
    booking_.status = BookingStatus::expired;
    notify_both(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const CheckoutOpened& e) {
    booking_.payment_ref = e.tx_ref;
    return {};
  }
  std::string operator()(const PaymentCaptured& e) {
    if (auto problem = check_postings(state_, e.postings); !problem.empty()) return problem;
    apply_postings(state_, e.postings);
    booking_.status = BookingStatus::confirmed;
    state_.payments[e.reference] = PaymentRecord{index_, true, {}};
    notify_both(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const PaymentRejected& e) {
    state_.payments[e.reference] = PaymentRecord{index_, false, e.reason};
    notify(state_, booking_.student_id, event_, index_);
    return {};
  }
  std::string operator()(const EscrowHeld&) {
    booking_.escrow_status = EscrowStatus::held;
    booking_.held_at = event_.at;
    return {};
  }
  std::string operator()(const SessionStarted& e) {
    booking_.status = BookingStatus::in_session;
    booking_.session_active = true;
    booking_.started_at = event_.at;
    booking_.channel = e.channel;
    notify_other_party(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const SessionJoined&) { return {}; }
  std::string operator()(const SessionEnded& e) {
    booking_.status = BookingStatus::completed;
    booking_.session_active = false;
    booking_.ended_at = e.ended_at;
    booking_.duration_seconds = e.duration_seconds;
    booking_.notes = e.notes;
    notify_other_party(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const BookingNoShow&) {
    booking_.status = BookingStatus::no_show;
    notify_both(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const EscrowReleaseScheduled& e) {
    booking_.escrow_status = EscrowStatus::release_scheduled;
    booking_.release_at = e.release_at;
    booking_.tutor_amount = e.tutor_amount;
    booking_.fee_amount = e.fee_amount;
    add_pending_release(state_.tutors[booking_.tutor_id], booking_.price.currency, e.tutor_amount);
    notify(state_, booking_.tutor_id, event_, index_);
    return {};
  }
  std::string operator()(const EscrowReleased& e) {
    if (auto problem = check_postings(state_, e.postings); !problem.empty()) return problem;
    apply_postings(state_, e.postings);
    if (booking_.escrow_status == EscrowStatus::release_scheduled && booking_.tutor_amount) {
      add_pending_release(state_.tutors[booking_.tutor_id], booking_.price.currency, -*booking_.tutor_amount);
    }
    booking_.escrow_status = EscrowStatus::released;
    booking_.released_at = event_.at;
    booking_.tutor_amount = e.tutor_amount;
    booking_.fee_amount = e.fee_amount;
    notify(state_, booking_.tutor_id, event_, index_);
    return {};
  }
  std::string operator()(const EscrowRefunded& e) {
    if (auto problem = check_postings(state_, e.postings); !problem.empty()) return problem;
    apply_postings(state_, e.postings);
    booking_.escrow_status = EscrowStatus::refunded;
    booking_.released_at = event_.at;
    booking_.refunded_amount = e.amount;
    notify(state_, booking_.student_id, event_, index_);
    return {};
  }
  std::string operator()(const DisputeOpened& e) {
    if (booking_.escrow_status == EscrowStatus::release_scheduled && booking_.tutor_amount) {
      add_pending_release(state_.tutors[booking_.tutor_id], booking_.price.currency, -*booking_.tutor_amount);
    }
    booking_.escrow_status = EscrowStatus::disputed;
    booking_.dispute_reason = e.reason;
    notify(state_, booking_.tutor_id, event_, index_);
    return {};
  }
  std::string operator()(const DisputeResolved& e) {
    if (auto problem = check_postings(state_, e.postings); !problem.empty()) return problem;
    apply_postings(state_, e.postings);
    booking_.escrow_status = e.outcome == "refunded" ? EscrowStatus::refunded
                             : e.outcome == "split"  ? EscrowStatus::split
                                                     : EscrowStatus::released;
    booking_.released_at = event_.at;
    booking_.refunded_amount = e.refund_amount;
    booking_.tutor_amount = e.tutor_amount;
    booking_.fee_amount = e.fee_amount;
    notify_both(state_, booking_, event_, index_);
    return {};
  }
  std::string operator()(const SessionRated& e) {
    booking_.rating_stars = e.stars;
    booking_.rating_comment = e.comment;
    Tutor& tutor = state_.tutors[booking_.tutor_id];
    tutor.rating_sum += e.stars;
    tutor.rating_count += 1;
    notify(state_, booking_.tutor_id, event_, index_);
    return {};
  }
  // Events that never reach a booking evolver.
  std::string operator()(const BookingRequested&) { return "booking requested twice"; }
  std::string operator()(const WithdrawalRequested&) { return "withdrawal event on a booking stream"; }
  std::string operator()(const WithdrawalCompleted&) { return "withdrawal event on a booking stream"; }
  std::string operator()(const WithdrawalFailed&) { return "withdrawal event on a booking stream"; }

 private:
  State& state_;
  const Event& event_;
  Booking& booking_;
  uint32_t index_;
};

std::string evolve_booking_requested(State& state, const Event& event, const BookingRequested& e) {
  if (state.find_booking(e.booking_id) != nullptr) return fmt::format("booking {} requested twice", e.booking_id);
  Booking& booking = state.bookings.emplace_back();
  booking.id = e.booking_id;
  booking.student_id = e.student_id;
  booking.tutor_id = e.tutor_id;
  booking.subject = e.subject;
  booking.scheduled_start = e.scheduled_start;
  booking.duration_minutes = e.duration_minutes;
  booking.price = e.price;
  booking.created_at = event.at;
  booking.version = event.version;
  const auto index = static_cast<uint32_t>(state.bookings.size() - 1);
  state.booking_index.emplace(booking.id, index);
  state.bookings_by_student[booking.student_id].push_back(index);
  state.bookings_by_tutor[booking.tutor_id].push_back(index);
  state.tutors.try_emplace(booking.tutor_id);
  notify(state, booking.tutor_id, event, index);
  return {};
}

std::string evolve_withdrawal(State& state, const Event& event) {
  if (const auto* e = std::get_if<WithdrawalRequested>(&event.data)) {
    if (state.find_withdrawal(e->withdrawal_id) != nullptr) return fmt::format("withdrawal {} requested twice", e->withdrawal_id);
    if (auto problem = check_postings(state, e->postings); !problem.empty()) return problem;
    apply_postings(state, e->postings);
    Withdrawal& withdrawal = state.withdrawals.emplace_back();
    withdrawal.id = e->withdrawal_id;
    withdrawal.tutor_id = e->tutor_id;
    withdrawal.amount = e->amount;
    withdrawal.destination = e->destination;
    withdrawal.requested_at = event.at;
    const auto index = static_cast<uint32_t>(state.withdrawals.size() - 1);
    state.withdrawal_index.emplace(withdrawal.id, index);
    state.withdrawals_by_tutor[withdrawal.tutor_id].push_back(index);
    state.tutors[e->tutor_id].stream_version = event.version;
    notify(state, withdrawal.tutor_id, event, index);
    return {};
  }
  const std::string* withdrawal_id = nullptr;
  const std::vector<Posting>* postings = nullptr;
  if (const auto* completed = std::get_if<WithdrawalCompleted>(&event.data)) {
    withdrawal_id = &completed->withdrawal_id;
    postings = &completed->postings;
  } else if (const auto* failed = std::get_if<WithdrawalFailed>(&event.data)) {
    withdrawal_id = &failed->withdrawal_id;
    postings = &failed->postings;
  } else {
    return fmt::format("{} on a tutor stream", event_name(event.data));
  }
  auto found = state.withdrawal_index.find(*withdrawal_id);
  if (found == state.withdrawal_index.end()) return fmt::format("unknown withdrawal {}", *withdrawal_id);
  if (auto problem = check_postings(state, *postings); !problem.empty()) return problem;
  apply_postings(state, *postings);
  Withdrawal& withdrawal = state.withdrawals[found->second];
  withdrawal.completed_at = event.at;
  if (const auto* failed = std::get_if<WithdrawalFailed>(&event.data)) {
    withdrawal.status = WithdrawalStatus::failed;
    withdrawal.failure_reason = failed->reason;
  } else {
    withdrawal.status = WithdrawalStatus::completed;
  }
  state.tutors[withdrawal.tutor_id].stream_version = event.version;
  notify(state, withdrawal.tutor_id, event, found->second);
  return {};
}

}  // namespace

std::string evolve(State& state, const Event& event) {
  if (event.position != state.position + 1) {
    return fmt::format("event at position {} applied after position {}", event.position, state.position);
  }
  std::string problem;
  if (event.stream.starts_with("tutor-")) {
    problem = evolve_withdrawal(state, event);
  } else if (const auto* requested = std::get_if<BookingRequested>(&event.data)) {
    problem = evolve_booking_requested(state, event, *requested);
  } else {
    const std::string_view booking_id = booking_id_of(event.data);
    auto found = state.booking_index.find(booking_id);
    if (found == state.booking_index.end()) {
      problem = fmt::format("{} for unknown booking {}", event_name(event.data), booking_id);
    } else {
      Booking& booking = state.bookings[found->second];
      problem = std::visit(BookingEvolver(state, event, booking, found->second), event.data);
      if (problem.empty()) booking.version = event.version;
    }
  }
  if (!problem.empty()) return problem;
  state.position = event.position;
  state.last_event_at = event.at;
  return {};
}

}  // namespace tl
