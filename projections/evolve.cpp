#include "projections/evolve.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include <fmt/format.h>

namespace tl {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// ---- money ----------------------------------------------------------------------------------

// Adds `delta` to the balance of `account` in `currency`; false on overflow (nothing changed).
bool add_to_balance(State& state, std::string_view account, const Currency& currency, int64_t delta) {
  auto found = state.balances.find(account);
  if (found == state.balances.end()) {
    if (delta != 0) state.balances.emplace(std::string(account), CurrencyBalances{{currency, delta}});
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

// ---- notifications --------------------------------------------------------------------------

constexpr size_t notifications_growth_min = 4;  // entries added at least when a user's list is full

void notify(State& state, Role role, std::string_view user, const Event& event, uint32_t subject) {
  auto& lists = state.notifications_of(role);
  auto found = lists.find(user);  // no string is made for a user already known
  if (found == lists.end()) found = lists.emplace(std::string(user), std::vector<Notification>{}).first;
  // Grow by a quarter rather than double: these lists are most of a booking's memory, and a
  // doubled vector is on average a third empty.
  std::vector<Notification>& list = found->second;
  if (list.size() == list.capacity()) list.reserve(list.size() + std::max<size_t>(notifications_growth_min, list.size() / 4));
  list.push_back(Notification{event.position, event.data.index(), event.at, subject});
}

// Notifies the party of the booking that did not act (both when the system or an admin acted).
void notify_other_party(State& state, const Booking& booking, const Event& event, uint32_t index) {
  const bool by_student = event.actor.role == Role::student && event.actor.id == booking.student_id;
  const bool by_tutor = event.actor.role == Role::tutor && event.actor.id == booking.tutor_id;
  if (!by_tutor) notify(state, Role::tutor, booking.tutor_id, event, index);
  if (!by_student) notify(state, Role::student, booking.student_id, event, index);
}

void notify_both(State& state, const Booking& booking, const Event& event, uint32_t index) {
  notify(state, Role::student, booking.student_id, event, index);
  notify(state, Role::tutor, booking.tutor_id, event, index);
}

// ---- the state-wide effects of booking events (run before the booking changes: some read it) --

void apply_booking_effects(State& state, const Booking& booking, uint32_t index, const Event& event) {
  apply_postings(state, postings_of(event.data));
  std::visit(
      Overloaded{
          [&](const BookingRequested&) { notify(state, Role::tutor, booking.tutor_id, event, index); },
          [&](const BookingAccepted&) { notify(state, Role::student, booking.student_id, event, index); },
          [&](const BookingDeclined&) { notify(state, Role::student, booking.student_id, event, index); },
          [&](const BookingCancelled&) { notify_other_party(state, booking, event, index); },
          [&](const BookingExpired&) { notify_both(state, booking, event, index); },
          [&](const CheckoutOpened&) {},
          [&](const PaymentCaptured& e) {
            state.payments[e.reference] = PaymentRecord{index, true, {}};
            notify_both(state, booking, event, index);
          },
          [&](const PaymentRejected& e) {
            state.payments[e.reference] = PaymentRecord{index, false, CompactText(e.reason)};
            notify(state, Role::student, booking.student_id, event, index);
          },
          [&](const EscrowHeld&) {},
          [&](const SessionStarted&) { notify_other_party(state, booking, event, index); },
          [&](const SessionJoined&) {},
          [&](const SessionEnded&) { notify_other_party(state, booking, event, index); },
          [&](const BookingNoShow&) { notify_both(state, booking, event, index); },
          [&](const EscrowReleaseScheduled& e) {
            add_pending_release(state.tutors[booking.tutor_id], booking.price.currency, e.tutor_amount);
            notify(state, Role::tutor, booking.tutor_id, event, index);
          },
          [&](const EscrowReleased&) {
            if (booking.escrow_status == EscrowStatus::release_scheduled && booking.tutor_amount) {
              add_pending_release(state.tutors[booking.tutor_id], booking.price.currency, -*booking.tutor_amount);
            }
            notify(state, Role::tutor, booking.tutor_id, event, index);
          },
          [&](const EscrowRefunded&) { notify(state, Role::student, booking.student_id, event, index); },
          [&](const DisputeOpened&) {
            if (booking.escrow_status == EscrowStatus::release_scheduled && booking.tutor_amount) {
              add_pending_release(state.tutors[booking.tutor_id], booking.price.currency, -*booking.tutor_amount);
            }
            notify(state, Role::tutor, booking.tutor_id, event, index);
          },
          [&](const DisputeResolved&) { notify_both(state, booking, event, index); },
          [&](const SessionRated& e) {
            Tutor& tutor = state.tutors[booking.tutor_id];
            tutor.rating_sum += e.stars;
            tutor.rating_count += 1;
            notify(state, Role::tutor, booking.tutor_id, event, index);
          },
          [&](const WithdrawalRequested&) { assert(false); },
          [&](const WithdrawalCompleted&) { assert(false); },
          [&](const WithdrawalFailed&) { assert(false); },
      },
      event.data);
}

// The booking keeps its values in narrow fields (state.h): an event whose values do not fit them
// is refused rather than stored truncated. decide() never makes one.
struct NarrowFieldCheck {
  std::string problem;
  void operator()(std::string_view name, const int64_t& value) {
    if (problem.empty() && !fits_optional_int64(value)) problem = fmt::format("{} {} is out of range", name, value);
  }
  template <class T>
  void operator()(std::string_view, const T&) {}
};

std::string check_narrow_fields(const Event& event) {
  if (!fits_optional_int64(event.at)) return fmt::format("event time {} is out of range", event.at);
  NarrowFieldCheck check;
  std::visit([&](const auto& data) { std::decay_t<decltype(data)>::fields(data, check); }, event.data);
  if (!check.problem.empty()) return fmt::format("{}: {}", event_name(event.data), check.problem);
  if (const auto* requested = std::get_if<BookingRequested>(&event.data)) {
    if (requested->duration_minutes < 0 || requested->duration_minutes > std::numeric_limits<int32_t>::max()) {
      return fmt::format("duration_minutes {} is out of range", requested->duration_minutes);
    }
  }
  if (const auto* rated = std::get_if<SessionRated>(&event.data)) {
    if (rated->stars < 0 || rated->stars > std::numeric_limits<uint8_t>::max()) {
      return fmt::format("stars {} is out of range", rated->stars);
    }
  }
  return {};
}

bool is_withdrawal_event(const EventData& data) {
  return std::holds_alternative<WithdrawalRequested>(data) || std::holds_alternative<WithdrawalCompleted>(data) ||
         std::holds_alternative<WithdrawalFailed>(data);
}

std::string evolve_booking_event(State& state, const Event& event) {
  if (const auto* requested = std::get_if<BookingRequested>(&event.data)) {
    if (state.find_booking(requested->booking_id) != nullptr) {
      return fmt::format("booking {} requested twice", requested->booking_id);
    }
    Booking& booking = state.bookings.emplace_back();
    apply_to_booking(booking, event);
    const auto index = static_cast<uint32_t>(state.bookings.size() - 1);
    const bool indexed = state.index_last_booking();
    assert(indexed);  // find_booking said the id is new
    (void)indexed;
    state.bookings_by_student[booking.student_id].push_back(index);
    state.bookings_by_tutor[booking.tutor_id].push_back(index);
    state.tutors.try_emplace(booking.tutor_id);
    apply_booking_effects(state, booking, index, event);
    return {};
  }
  const std::string_view booking_id = booking_id_of(event.data);
  const std::optional<uint32_t> found = state.find_booking_index(booking_id);
  if (!found) return fmt::format("{} for unknown booking {}", event_name(event.data), booking_id);
  Booking& booking = state.bookings[*found];
  apply_booking_effects(state, booking, *found, event);
  apply_to_booking(booking, event);
  return {};
}

std::string evolve_withdrawal_event(State& state, const Event& event) {
  if (const auto* requested = std::get_if<WithdrawalRequested>(&event.data)) {
    if (state.find_withdrawal(requested->withdrawal_id) != nullptr) {
      return fmt::format("withdrawal {} requested twice", requested->withdrawal_id);
    }
    apply_postings(state, requested->postings);
    Withdrawal& withdrawal = state.withdrawals.emplace_back();
    apply_to_withdrawal(withdrawal, event);
    const auto index = static_cast<uint32_t>(state.withdrawals.size() - 1);
    const bool indexed = state.index_last_withdrawal();
    assert(indexed);  // find_withdrawal said the id is new
    (void)indexed;
    state.withdrawals_by_tutor[withdrawal.tutor_id].push_back(index);
    state.tutors[withdrawal.tutor_id].stream_version = event.version;
    notify(state, Role::tutor, withdrawal.tutor_id, event, index);
    return {};
  }
  const std::string_view withdrawal_id = withdrawal_id_of(event.data);
  const std::optional<uint32_t> found = state.find_withdrawal_index(withdrawal_id);
  if (!found) return fmt::format("unknown withdrawal {}", withdrawal_id);
  apply_postings(state, postings_of(event.data));
  Withdrawal& withdrawal = state.withdrawals[*found];
  apply_to_withdrawal(withdrawal, event);
  state.tutors[withdrawal.tutor_id].stream_version = event.version;
  notify(state, Role::tutor, withdrawal.tutor_id, event, *found);
  return {};
}

}  // namespace

void apply_to_booking(Booking& b, const Event& event) {
  std::visit(
      Overloaded{
          [&](const BookingRequested& e) {
            b = Booking{};
            b.id = e.booking_id;
            b.student_id = e.student_id;
            b.tutor_id = e.tutor_id;
            b.subject = e.subject;
            b.scheduled_start = e.scheduled_start;
            b.duration_minutes = static_cast<int32_t>(e.duration_minutes);  // checked by check_narrow_fields
            b.price = e.price;
            b.created_at = event.at;
          },
          [&](const BookingAccepted&) { b.status = BookingStatus::accepted; },
          [&](const BookingDeclined&) { b.status = BookingStatus::declined; },
          [&](const BookingCancelled&) { b.status = BookingStatus::cancelled; },
          [&](const BookingExpired&) { b.status = BookingStatus::expired; },
          [&](const CheckoutOpened& e) { b.set_payment_ref(e.tx_ref); },
          [&](const PaymentCaptured&) { b.status = BookingStatus::confirmed; },
          [&](const PaymentRejected&) {},
          [&](const EscrowHeld&) {
            b.escrow_status = EscrowStatus::held;
            b.held_at = event.at;
          },
          [&](const SessionStarted& e) {
            b.status = BookingStatus::in_session;
            b.session_active = true;
            b.started_at = event.at;
            b.set_channel(e.channel);
          },
          [&](const SessionJoined&) {},
          [&](const SessionEnded& e) {
            b.status = BookingStatus::completed;
            b.session_active = false;
            b.ended_at = e.ended_at;
            b.duration_seconds = e.duration_seconds;
            b.notes = e.notes;
          },
          [&](const BookingNoShow&) { b.status = BookingStatus::no_show; },
          [&](const EscrowReleaseScheduled& e) {
            b.escrow_status = EscrowStatus::release_scheduled;
            b.release_at = e.release_at;
            b.tutor_amount = e.tutor_amount;
            b.fee_amount = e.fee_amount;
            b.scheduled_release_amount = e.tutor_amount;
          },
          [&](const EscrowReleased& e) {
            b.escrow_status = EscrowStatus::released;
            b.released_at = event.at;
            b.tutor_amount = e.tutor_amount;
            b.fee_amount = e.fee_amount;
          },
          [&](const EscrowRefunded& e) {
            b.escrow_status = EscrowStatus::refunded;
            b.released_at = event.at;
            b.refunded_amount = e.amount;
          },
          [&](const DisputeOpened& e) {
            b.escrow_status = EscrowStatus::disputed;
            b.dispute_reason = e.reason;
          },
          [&](const DisputeResolved& e) {
            b.escrow_status = e.outcome == "refunded" ? EscrowStatus::refunded
                              : e.outcome == "split"  ? EscrowStatus::split
                                                      : EscrowStatus::released;
            b.released_at = event.at;
            b.refunded_amount = e.refund_amount;
            b.tutor_amount = e.tutor_amount;
            b.fee_amount = e.fee_amount;
          },
          [&](const SessionRated& e) {
            b.rating_stars = static_cast<uint8_t>(e.stars);  // checked by check_narrow_fields
            b.rating_comment = e.comment;
          },
          [&](const WithdrawalRequested&) { assert(false); },
          [&](const WithdrawalCompleted&) { assert(false); },
          [&](const WithdrawalFailed&) { assert(false); },
      },
      event.data);
  b.version = event.version;
}

void apply_to_withdrawal(Withdrawal& w, const Event& event) {
  if (const auto* requested = std::get_if<WithdrawalRequested>(&event.data)) {
    w = Withdrawal{};
    w.id = requested->withdrawal_id;
    w.tutor_id = requested->tutor_id;
    w.amount = requested->amount;
    w.destination = requested->destination;
    w.requested_at = event.at;
  } else if (const auto* failed = std::get_if<WithdrawalFailed>(&event.data)) {
    w.status = WithdrawalStatus::failed;
    w.failure_reason = failed->reason;
    w.completed_at = event.at;
  } else if (std::holds_alternative<WithdrawalCompleted>(event.data)) {
    w.status = WithdrawalStatus::completed;
    w.completed_at = event.at;
  }
}

std::string evolve(State& state, const Event& event) {
  if (event.position != state.position + 1) {
    return fmt::format("event at position {} applied after position {}", event.position, state.position);
  }
  if (event.position > notification_position_max) return fmt::format("event position {} is beyond the limit", event.position);
  // Validate before changing anything: a refused event leaves the state as it was.
  if (auto problem = check_postings(state, postings_of(event.data)); !problem.empty()) return problem;
  if (auto problem = check_narrow_fields(event); !problem.empty()) return problem;
  const bool on_tutor_stream = event.stream.starts_with("tutor-");
  if (on_tutor_stream != is_withdrawal_event(event.data)) {
    return fmt::format("{} on stream {}", event_name(event.data), event.stream);
  }
  std::string problem = on_tutor_stream ? evolve_withdrawal_event(state, event) : evolve_booking_event(state, event);
  if (!problem.empty()) return problem;
  state.position = event.position;
  state.last_event_at = event.at;
  return {};
}

}  // namespace tl
