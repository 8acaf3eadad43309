#include "engine/decide.h"

#include <cassert>

#include <fmt/format.h>

#include "engine/text_checks.h"

namespace tl {
namespace {

Decision reject(Rejection rejection, std::string message) {
  assert(rejection != Rejection::none);
  Decision decision;
  decision.rejection = rejection;
  decision.message = std::move(message);
  return decision;
}

Decision nothing_to_do() { return {}; }

bool is_party(const Booking& booking, const Actor& actor) {
  return (actor.role == Role::student && actor.id == booking.student_id) ||
         (actor.role == Role::tutor && actor.id == booking.tutor_id);
}

void add_posting(std::vector<Posting>& postings, std::string debit, std::string credit, int64_t amount,
                 const Currency& currency) {
  assert(amount >= 0);
  if (amount == 0) return;  // a posting moves something or is not written
  postings.push_back(Posting{std::move(debit), std::move(credit), amount, currency});
}

// Splits an escrow of `price` into what goes back to the student and what is released (to the
// tutor, less the platform fee). Fee on the released part only, rounded down.
struct EscrowSplit {
  int64_t refund = 0;
  int64_t tutor = 0;
  int64_t fee = 0;
};

std::optional<EscrowSplit> split_escrow(int64_t price, int64_t refund, int64_t fee_bps) {
  assert(refund >= 0 && refund <= price);
  const int64_t released = price - refund;
  const auto fee = fee_of(released, fee_bps);
  if (!fee) return std::nullopt;
  return EscrowSplit{refund, released - *fee, *fee};
}

class Decider {
 public:
  Decider(const State& state, const Command& command, const Policy& policy)
      : state_(state), actor_(command.actor), now_(command.now), policy_(policy) {}

  Decision operator()(const RequestBooking& c) {
    if (actor_.role != Role::student) return role_not_allowed("only a student can book a session");
    if (!valid_entity_id(c.booking_id)) return field_invalid("booking_id", "must be 1 to 64 of [A-Za-z0-9_-]");
    if (!valid_user_id(c.tutor_id)) return field_invalid("tutor_id", "must be 1 to 64 of [A-Za-z0-9_-]");
    if (auto refused = refuse_text("subject", c.subject, policy_.subject_bytes_max, Text::one_line_required)) return *refused;
    if (c.duration_minutes < policy_.duration_minutes_min || c.duration_minutes > policy_.duration_minutes_max) {
      return field_invalid("duration_minutes", fmt::format("must be {} to {} minutes", policy_.duration_minutes_min,
                                                           policy_.duration_minutes_max));
    }
    if (!c.price.currency.valid()) return field_invalid("price.currency", "must be an ISO 4217 code");
    if (c.price.amount < policy_.price_amount_min || c.price.amount > policy_.price_amount_max) {
      return field_invalid("price.amount", fmt::format("must be {} to {} minor units", policy_.price_amount_min,
                                                       policy_.price_amount_max));
    }
    if (c.scheduled_start <= now_) return field_invalid("scheduled_start", "must be in the future");
    // Every instant the booking can lead to (its auto-end, the release a hold later) must be one
    // the contract can show: RFC 3339, four-digit years.
    const TimeMs last_instant = c.scheduled_start + c.duration_minutes * ms_per_minute + policy_.auto_end_grace_ms +
                                policy_.escrow_hold_ms;
    if (last_instant > time_ms_max) {
      return field_invalid("scheduled_start", "must leave room for the session and its escrow hold before 9999-12-31T23:59:59Z");
    }
    if (c.tutor_id == actor_.id) return field_invalid("tutor_id", "a student cannot book themselves");
    if (state_.find_booking(c.booking_id) != nullptr) {
      return reject(Rejection::already_exists, fmt::format("booking {} already exists", c.booking_id));
    }
    Decision decision;
    decision.stream = booking_stream(c.booking_id);
    decision.expected_version = 0;
    decision.events.push_back(BookingRequested{c.booking_id, actor_.id, c.tutor_id, c.subject, c.scheduled_start,
                                               c.duration_minutes, c.price});
    return decision;
  }

  Decision operator()(const AcceptBooking& c) {
    if (actor_.role != Role::tutor) return role_not_allowed("only the tutor can accept a booking");
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (auto refused = require_open_request(*booking)) return *refused;
    return on_booking(*booking, {BookingAccepted{booking->id}});
  }

  Decision operator()(const DeclineBooking& c) {
    if (actor_.role != Role::tutor) return role_not_allowed("only the tutor can decline a booking");
    if (auto refused = refuse_text("reason", c.reason, policy_.reason_bytes_max, Text::lines_optional)) return *refused;
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (auto refused = require_open_request(*booking)) return *refused;
    return on_booking(*booking, {BookingDeclined{booking->id, c.reason}});
  }

  Decision operator()(const CancelBooking& c) {
    if (actor_.role != Role::student && actor_.role != Role::tutor) {
      return role_not_allowed("only the student or the tutor can cancel a booking");
    }
    if (auto refused = refuse_text("reason", c.reason, policy_.reason_bytes_max, Text::lines_optional)) return *refused;
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    switch (booking->status) {
      case BookingStatus::requested:
        if (auto refused = require_open_request(*booking)) return *refused;
        return on_booking(*booking, {BookingCancelled{booking->id, c.reason}});
      case BookingStatus::accepted:
        if (now_ >= booking->scheduled_start) return invalid_transition(*booking, "it expired unpaid");
        return on_booking(*booking, {BookingCancelled{booking->id, c.reason}});
      case BookingStatus::confirmed: {
        if (now_ >= start_window_closes_at(*booking, policy_)) {
          return invalid_transition(*booking, "its start window has closed");
        }
        return on_booking(*booking, {BookingCancelled{booking->id, c.reason}, refund_all(*booking)});
      }
      default: return invalid_transition(*booking, "it can no longer be cancelled");
    }
  }

  Decision operator()(const Checkout& c) {
    if (actor_.role != Role::student) return role_not_allowed("only the student can pay for a booking");
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->status != BookingStatus::accepted) return invalid_transition(*booking, "only an accepted booking can be paid");
    if (now_ >= booking->scheduled_start) return invalid_transition(*booking, "it expired unpaid");
    if (booking->has_payment_ref()) return nothing_to_do();  // the same tx_ref again
    return on_booking(*booking, {CheckoutOpened{booking->id, checkout_tx_ref(booking->id), booking->price}});
  }

  Decision operator()(const CapturePayment& c) {
    if (actor_.role != Role::system) return role_not_allowed("payments are captured by the payment webhook");
    if (auto refused = check_payment_fields(c.tx_ref, c.reference, c.amount, c.currency)) return *refused;
    if (state_.payments.contains(c.reference)) return nothing_to_do();  // a repeat delivery
    const Booking* booking = nullptr;
    if (auto refused = find_booking_by_tx_ref(c.tx_ref, &booking)) return *refused;
    auto rejected = [&](std::string reason) {
      return on_booking(*booking, {PaymentRejected{booking->id, c.tx_ref, c.reference, std::move(reason), c.amount, c.currency}});
    };
    if (booking->status != BookingStatus::accepted || now_ >= booking->scheduled_start) {
      return rejected("booking_not_payable");
    }
    const auto currency = Currency::parse(c.currency);
    if (!currency || !(*currency == booking->price.currency)) return rejected("currency_mismatch");
    const auto amount = parse_decimal_amount(c.amount, *currency);
    if (!amount || *amount != booking->price.amount) return rejected("amount_mismatch");
    std::vector<Posting> postings;
    add_posting(postings, std::string(accounts::psp), accounts::escrow(booking->id), *amount, *currency);
    return on_booking(*booking, {PaymentCaptured{booking->id, c.tx_ref, c.reference, booking->price, std::move(postings)},
                                 EscrowHeld{booking->id, booking->price}});
  }

  Decision operator()(const RejectPayment& c) {
    if (actor_.role != Role::system) return role_not_allowed("payments are reported by the payment webhook");
    if (auto refused = check_payment_fields(c.tx_ref, c.reference, c.amount, c.currency)) return *refused;
    if (c.reason.size() > policy_.reason_bytes_max) return text_too_long("reason", policy_.reason_bytes_max);
    if (has_control_character(c.reason, false)) return field_invalid("reason", "must not contain control characters");
    if (state_.payments.contains(c.reference)) return nothing_to_do();
    const Booking* booking = nullptr;
    if (auto refused = find_booking_by_tx_ref(c.tx_ref, &booking)) return *refused;
    return on_booking(*booking, {PaymentRejected{booking->id, c.tx_ref, c.reference, c.reason, c.amount, c.currency}});
  }

  Decision operator()(const StartSession& c) {
    if (actor_.role != Role::student && actor_.role != Role::tutor) {
      return role_not_allowed("only the student or the tutor can start a session");
    }
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->status == BookingStatus::in_session) return join(*booking);  // start on an active session joins it
    if (booking->status == BookingStatus::no_show) return start_window_closed(*booking);
    if (booking->status != BookingStatus::confirmed) {
      return invalid_transition(*booking, "only a paid (confirmed) booking can start");
    }
    if (auto refused = outside_start_window(*booking)) return *refused;
    return on_booking(*booking, {SessionStarted{booking->id, session_channel(booking->id)}});
  }

  Decision operator()(const JoinSession& c) {
    if (actor_.role != Role::student && actor_.role != Role::tutor) {
      return role_not_allowed("only the student or the tutor can join a session");
    }
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->status == BookingStatus::confirmed) {
      // The contract's error table: joining a paid session before its window opens (or after
      // it closed) is outside_window; inside the window it is waiting for a start.
      if (auto refused = outside_start_window(*booking)) return *refused;
    }
    if (booking->status == BookingStatus::no_show) return start_window_closed(*booking);
    if (booking->status != BookingStatus::in_session) return invalid_transition(*booking, "its session is not active");
    return join(*booking);
  }

  Decision operator()(const EndSession& c) {
    if (actor_.role != Role::student && actor_.role != Role::tutor) {
      return role_not_allowed("only the student or the tutor can end a session");
    }
    if (auto refused = refuse_text("notes", c.notes, policy_.notes_bytes_max, Text::lines_optional)) return *refused;
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->status != BookingStatus::in_session) return invalid_transition(*booking, "its session is not active");
    if (now_ >= auto_end_at(*booking, policy_)) return invalid_transition(*booking, "its session already ended");
    return end_session(*booking, now_, c.notes, "ended");
  }

  Decision operator()(const RateSession& c) {
    if (actor_.role != Role::student) return role_not_allowed("only the student can rate a session");
    if (c.stars < 1 || c.stars > 5) return field_invalid("stars", "must be 1 to 5");
    if (auto refused = refuse_text("comment", c.comment, policy_.comment_bytes_max, Text::lines_optional)) return *refused;
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->status != BookingStatus::completed) return invalid_transition(*booking, "only a completed session can be rated");
    if (booking->rating_stars != 0) return invalid_transition(*booking, "it is already rated");
    return on_booking(*booking, {SessionRated{booking->id, booking->tutor_id, c.stars, c.comment}});
  }

  Decision operator()(const OpenDispute& c) {
    if (actor_.role != Role::student) return role_not_allowed("only the student can dispute a session");
    if (auto refused = refuse_text("reason", c.reason, policy_.reason_bytes_max, Text::lines_required)) return *refused;
    const Booking* booking = nullptr;
    if (auto refused = find_party_booking(c.booking_id, &booking)) return *refused;
    if (booking->escrow_status != EscrowStatus::release_scheduled) {
      return invalid_transition(*booking, "only an escrow scheduled for release can be disputed");
    }
    if (now_ >= *booking->release_at) return invalid_transition(*booking, "its escrow is already due for release");
    return on_booking(*booking, {DisputeOpened{booking->id, c.reason}});
  }

  Decision operator()(const ResolveDispute& c) {
    if (actor_.role != Role::admin) return role_not_allowed("only an admin can resolve a dispute");
    if (c.refund_amount < 0) return field_invalid("refund_amount", "must not be negative");
    const Booking* booking = nullptr;
    if (auto refused = find_booking(c.booking_id, &booking)) return *refused;
    if (c.refund_amount > booking->price.amount) {
      return reject(Rejection::field_invalid_for_booking,
                    fmt::format("refund_amount: must be 0 to {} (the price)", booking->price.amount));
    }
    if (booking->escrow_status != EscrowStatus::disputed) return invalid_transition(*booking, "its escrow is not disputed");
    const auto split = split_escrow(booking->price.amount, c.refund_amount, policy_.fee_bps);
    if (!split) return field_invalid("refund_amount", "the fee would overflow");
    const Currency currency = booking->price.currency;
    const std::string escrow = accounts::escrow(booking->id);
    std::vector<Posting> postings;
    add_posting(postings, escrow, std::string(accounts::refunds), split->refund, currency);
    add_posting(postings, escrow, accounts::tutor(booking->tutor_id), split->tutor, currency);
    add_posting(postings, escrow, std::string(accounts::fees), split->fee, currency);
    const std::string outcome = split->refund == 0                         ? "released"
                                : split->refund == booking->price.amount ? "refunded"
                                                                         : "split";
    return on_booking(*booking, {DisputeResolved{booking->id, split->refund, split->tutor, split->fee, outcome,
                                                 std::move(postings)}});
  }

  Decision operator()(const RequestWithdrawal& c) {
    if (actor_.role != Role::tutor) return role_not_allowed("only a tutor can withdraw");
    if (!valid_entity_id(c.withdrawal_id)) return field_invalid("withdrawal_id", "must be 1 to 64 of [A-Za-z0-9_-]");
    if (!c.amount.currency.valid()) return field_invalid("amount.currency", "must be an ISO 4217 code");
    if (c.amount.amount <= 0 || c.amount.amount > policy_.withdrawal_amount_max) {
      return field_invalid("amount.amount", "must be a positive number of minor units");
    }
    if (auto refused = refuse_text("destination", c.destination, policy_.destination_bytes_max, Text::one_line_required)) {
      return *refused;
    }
    if (state_.find_withdrawal(c.withdrawal_id) != nullptr) {
      return reject(Rejection::already_exists, fmt::format("withdrawal {} already exists", c.withdrawal_id));
    }
    const int64_t available = state_.balance(accounts::tutor(actor_.id), c.amount.currency);
    if (available < c.amount.amount) {
      return reject(Rejection::insufficient_funds,
                    fmt::format("available balance is {}", format_money(Money{available, c.amount.currency})));
    }
    std::vector<Posting> postings;
    add_posting(postings, accounts::tutor(actor_.id), accounts::tutor_withdrawing(actor_.id), c.amount.amount,
                c.amount.currency);
    return on_tutor(actor_.id, {WithdrawalRequested{c.withdrawal_id, actor_.id, c.amount, c.destination, std::move(postings)}});
  }

  Decision operator()(const CompleteWithdrawal& c) {
    if (actor_.role != Role::admin) return role_not_allowed("only an admin can complete a withdrawal");
    const Withdrawal* withdrawal = nullptr;
    if (auto refused = find_open_withdrawal(c.withdrawal_id, &withdrawal)) return *refused;
    std::vector<Posting> postings;
    add_posting(postings, accounts::tutor_withdrawing(withdrawal->tutor_id), std::string(accounts::payouts),
                withdrawal->amount.amount, withdrawal->amount.currency);
    return on_tutor(withdrawal->tutor_id, {WithdrawalCompleted{withdrawal->id, withdrawal->tutor_id, std::move(postings)}});
  }

  Decision operator()(const FailWithdrawal& c) {
    if (actor_.role != Role::admin) return role_not_allowed("only an admin can fail a withdrawal");
    if (auto refused = refuse_text("reason", c.reason, policy_.reason_bytes_max, Text::lines_optional)) return *refused;
    const Withdrawal* withdrawal = nullptr;
    if (auto refused = find_open_withdrawal(c.withdrawal_id, &withdrawal)) return *refused;
    std::vector<Posting> postings;
    add_posting(postings, accounts::tutor_withdrawing(withdrawal->tutor_id), accounts::tutor(withdrawal->tutor_id),
                withdrawal->amount.amount, withdrawal->amount.currency);
    return on_tutor(withdrawal->tutor_id,
                    {WithdrawalFailed{withdrawal->id, withdrawal->tutor_id, c.reason, std::move(postings)}});
  }

  Decision operator()(const TimerFired& c) {
    if (actor_.role != Role::system) return role_not_allowed("timers are fired by the system");
    const Booking* booking = nullptr;
    if (auto refused = find_booking(c.booking_id, &booking)) return *refused;
    // The state decides, not the timer: fired twice, early, or after the booking moved on → nothing.
    const auto due = pending_timer(*booking, policy_);
    if (!due || due->kind != c.kind || now_ < due->due) return nothing_to_do();
    switch (c.kind) {
      case TimerKind::expire_request: return on_booking(*booking, {BookingExpired{booking->id, "request"}});
      case TimerKind::expire_unpaid: return on_booking(*booking, {BookingExpired{booking->id, "payment"}});
      case TimerKind::close_start_window: return on_booking(*booking, {BookingNoShow{booking->id}, refund_all(*booking)});
      case TimerKind::auto_end_session: return end_session(*booking, due->due, "", "auto_end");
      case TimerKind::release_escrow: return release(*booking);
    }
    return nothing_to_do();
  }

 private:
  Decision role_not_allowed(std::string message) { return reject(Rejection::role_not_allowed, std::move(message)); }

  Decision field_invalid(std::string_view field, std::string_view why) {
    return reject(Rejection::field_invalid, fmt::format("{}: {}", field, why));
  }

  Decision text_too_long(std::string_view field, size_t bytes_max) {
    return field_invalid(field, fmt::format("must be at most {} bytes", bytes_max));
  }

  // What people type, shown to the other party and kept in the log for good: within its byte
  // limit, free of control characters (they hide or rewrite what a list, a terminal or a
  // notification shows; a multi-line field may hold tabs and line breaks), and a required
  // field not blank.
  enum class Text { one_line_required, lines_required, lines_optional };
  std::optional<Decision> refuse_text(std::string_view field, std::string_view text, size_t bytes_max, Text kind) {
    const bool required = kind != Text::lines_optional;
    if (text.size() > bytes_max || (required && text.empty())) {
      return required ? field_invalid(field, fmt::format("must be 1 to {} bytes", bytes_max)) : text_too_long(field, bytes_max);
    }
    const bool lines = kind != Text::one_line_required;
    if (has_control_character(text, lines)) {
      return field_invalid(field, lines ? "must not contain control characters other than tabs and line breaks"
                                        : "must not contain control characters");
    }
    if (required && text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return field_invalid(field, "must not be blank");
    }
    return std::nullopt;
  }

  Decision invalid_transition(const Booking& booking, std::string_view why) {
    return reject(Rejection::invalid_transition,
                  fmt::format("booking {} is {}: {}", booking.id, status_name(booking.status), why));
  }

  std::optional<Decision> find_booking(std::string_view id, const Booking** out) {
    *out = state_.find_booking(id);
    if (*out == nullptr) return reject(Rejection::booking_not_found, fmt::format("no booking {}", id));
    return std::nullopt;
  }

  // Finds the booking and checks that the actor is its student or tutor.
  std::optional<Decision> find_party_booking(std::string_view id, const Booking** out) {
    if (auto refused = find_booking(id, out)) return refused;
    if (!is_party(**out, actor_)) {
      return reject(Rejection::not_a_party, fmt::format("{} is not a party to booking {}", actor_text(actor_), id));
    }
    return std::nullopt;
  }

  std::optional<Decision> find_booking_by_tx_ref(std::string_view tx_ref, const Booking** out) {
    *out = tx_ref.starts_with(tx_ref_prefix) ? state_.find_booking(tx_ref.substr(tx_ref_prefix.size())) : nullptr;
    if (*out == nullptr || (*out)->payment_ref() != tx_ref) {
      *out = nullptr;
      return reject(Rejection::booking_not_found, fmt::format("no checkout with tx_ref {}", tx_ref));
    }
    return std::nullopt;
  }

  std::optional<Decision> find_open_withdrawal(std::string_view id, const Withdrawal** out) {
    *out = state_.find_withdrawal(id);
    if (*out == nullptr) return reject(Rejection::withdrawal_not_found, fmt::format("no withdrawal {}", id));
    if ((*out)->status != WithdrawalStatus::requested) {
      return reject(Rejection::invalid_transition,
                    fmt::format("withdrawal {} is already {}", id, status_name((*out)->status)));
    }
    return std::nullopt;
  }

  // A provider's report: its ids, and the amount and currency it names (kept in a rejection).
  std::optional<Decision> check_payment_fields(std::string_view tx_ref, std::string_view reference,
                                               std::string_view amount, std::string_view currency) {
    // The provider's words are kept in the log and shown by reconcile and the exports: the same
    // rule as for what people type (no control characters; the references not blank).
    if (auto refused = refuse_text("tx_ref", tx_ref, policy_.reference_bytes_max, Text::one_line_required)) return refused;
    if (auto refused = refuse_text("reference", reference, policy_.reference_bytes_max, Text::one_line_required)) {
      return refused;
    }
    for (const auto& [field, text] : {std::pair{"amount", amount}, std::pair{"currency", currency}}) {
      if (text.size() > policy_.reference_bytes_max) {
        return field_invalid(field, fmt::format("must be at most {} bytes", policy_.reference_bytes_max));
      }
      if (has_control_character(text, false)) return field_invalid(field, "must not contain control characters");
    }
    return std::nullopt;
  }

  std::optional<Decision> require_open_request(const Booking& booking) {
    if (booking.status != BookingStatus::requested) return invalid_transition(booking, "it is no longer a request");
    if (now_ >= request_expires_at(booking, policy_)) return invalid_transition(booking, "the request expired");
    return std::nullopt;
  }

  // A paid booking's session starts (and is joined) inside [opens, closes) only.
  std::optional<Decision> outside_start_window(const Booking& booking) {
    const TimeMs opens = start_window_opens_at(booking, policy_);
    const TimeMs closes = start_window_closes_at(booking, policy_);
    if (now_ < opens) {
      return reject(Rejection::outside_window, fmt::format("the start window opens at {}", format_rfc3339(opens)));
    }
    if (now_ >= closes) return start_window_closed(booking);
    return std::nullopt;
  }

  // A no-show is a paid booking whose start window closed without a start: starting or joining
  // it is the contract's "after it closes", outside_window. The no-show timer fires as the window
  // closes (with the test clock, before the call that moved the clock returns), so without this
  // a client could never see that answer.
  Decision start_window_closed(const Booking& booking) {
    const TimeMs closes = start_window_closes_at(booking, policy_);
    return reject(Rejection::outside_window, fmt::format("the start window closed at {}", format_rfc3339(closes)));
  }

  Decision join(const Booking& booking) {
    if (now_ >= auto_end_at(booking, policy_)) return invalid_transition(booking, "its session already ended");
    return on_booking(booking, {SessionJoined{booking.id}});
  }

  Decision end_session(const Booking& booking, TimeMs ended_at, std::string notes, std::string cause) {
    assert(booking.started_at);
    const int64_t duration_seconds = (ended_at - *booking.started_at) / ms_per_second;
    const auto split = split_escrow(booking.price.amount, 0, policy_.fee_bps);
    assert(split);  // prices are at most 10^12, far from overflow
    return on_booking(booking, {SessionEnded{booking.id, ended_at, std::move(notes), duration_seconds, std::move(cause)},
                                EscrowReleaseScheduled{booking.id, ended_at + policy_.escrow_hold_ms, split->tutor,
                                                       split->fee}});
  }

  Decision release(const Booking& booking) {
    assert(booking.tutor_amount && booking.fee_amount);
    const Currency currency = booking.price.currency;
    const std::string escrow = accounts::escrow(booking.id);
    std::vector<Posting> postings;
    add_posting(postings, escrow, accounts::tutor(booking.tutor_id), *booking.tutor_amount, currency);
    add_posting(postings, escrow, std::string(accounts::fees), *booking.fee_amount, currency);
    return on_booking(booking, {EscrowReleased{booking.id, *booking.tutor_amount, *booking.fee_amount, std::move(postings)}});
  }

  EventData refund_all(const Booking& booking) {
    std::vector<Posting> postings;
    add_posting(postings, accounts::escrow(booking.id), std::string(accounts::refunds), booking.price.amount,
                booking.price.currency);
    return EscrowRefunded{booking.id, booking.price.amount, std::move(postings)};
  }

  Decision on_booking(const Booking& booking, std::vector<EventData> events) {
    Decision decision;
    decision.stream = booking_stream(booking.id);
    decision.expected_version = booking.version;
    decision.events = std::move(events);
    return decision;
  }

  Decision on_tutor(std::string_view tutor_id, std::vector<EventData> events) {
    const Tutor* tutor = state_.find_tutor(tutor_id);
    Decision decision;
    decision.stream = tutor_stream(tutor_id);
    decision.expected_version = tutor == nullptr ? 0 : tutor->stream_version;
    decision.events = std::move(events);
    return decision;
  }

  const State& state_;
  const Actor& actor_;
  const TimeMs now_;
  const Policy& policy_;
};

}  // namespace

Decision decide(const State& state, const Command& command, const Policy& policy) {
  Decision decision = std::visit(Decider(state, command, policy), command.body);
  assert(decision.rejected() == !decision.message.empty());
  assert(!decision.rejected() || decision.events.empty());
  return decision;
}

void ConflictKeys::add(char kind, std::string_view id) {
  assert(count < keys_max);
  // FNV-1a over the kind and the id: cheap, and a collision is harmless (see decide.h).
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  };
  mix(static_cast<unsigned char>(kind));
  for (char c : id) mix(static_cast<unsigned char>(c));
  keys[count++] = hash;
}

ConflictKeys conflict_keys(const State& state, const Command& command) {
  ConflictKeys keys;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, CapturePayment> || std::is_same_v<T, RejectPayment>) {
          keys.add('p', body.reference);
          if (body.tx_ref.starts_with(tx_ref_prefix)) keys.add('b', std::string_view(body.tx_ref).substr(tx_ref_prefix.size()));
        } else if constexpr (std::is_same_v<T, RequestWithdrawal>) {
          keys.add('t', command.actor.id);
          keys.add('w', body.withdrawal_id);
        } else if constexpr (std::is_same_v<T, CompleteWithdrawal> || std::is_same_v<T, FailWithdrawal>) {
          keys.add('w', body.withdrawal_id);
          if (const Withdrawal* withdrawal = state.find_withdrawal(body.withdrawal_id)) keys.add('t', withdrawal->tutor_id);
        } else {
          // Booking commands. Those that credit the tutor's balance also hold the tutor key, so
          // that a withdrawal in the same batch is not decided against a balance missing them.
          keys.add('b', body.booking_id);
          if (const Booking* booking = state.find_booking(body.booking_id)) keys.add('t', booking->tutor_id);
        }
      },
      command.body);
  return keys;
}

std::string_view command_name(const CommandBody& body) {
  static constexpr std::string_view names[] = {
      "RequestBooking", "AcceptBooking", "DeclineBooking", "CancelBooking",  "Checkout",
      "CapturePayment", "RejectPayment", "StartSession",   "JoinSession",    "EndSession",
      "RateSession",    "OpenDispute",   "ResolveDispute", "RequestWithdrawal", "CompleteWithdrawal",
      "FailWithdrawal", "TimerFired"};
  static_assert(std::size(names) == std::variant_size_v<CommandBody>);
  return names[body.index()];
}

std::string_view booking_id_of(const CommandBody& body) {
  return std::visit(
      [](const auto& command) -> std::string_view {
        if constexpr (requires { command.booking_id; }) {
          return command.booking_id;
        } else {
          return {};
        }
      },
      body);
}

std::string_view rejection_code(Rejection rejection) {
  switch (rejection) {
    case Rejection::none: return "ok";
    case Rejection::role_not_allowed:
    case Rejection::not_a_party: return "forbidden";
    case Rejection::field_invalid:
    case Rejection::field_invalid_for_booking: return "invalid_request";
    case Rejection::booking_not_found:
    case Rejection::withdrawal_not_found: return "not_found";
    case Rejection::already_exists:
    case Rejection::invalid_transition: return "invalid_transition";
    case Rejection::outside_window: return "outside_window";
    case Rejection::insufficient_funds: return "insufficient_funds";
  }
  return "invalid_request";
}

int rejection_http_status(Rejection rejection) {
  switch (rejection) {
    case Rejection::none: return 200;
    case Rejection::role_not_allowed:
    case Rejection::not_a_party: return 403;
    case Rejection::field_invalid:
    case Rejection::field_invalid_for_booking: return 400;
    case Rejection::booking_not_found:
    case Rejection::withdrawal_not_found: return 404;
    case Rejection::already_exists:
    case Rejection::invalid_transition:
    case Rejection::outside_window:
    case Rejection::insufficient_funds: return 409;
  }
  return 400;
}

}  // namespace tl
