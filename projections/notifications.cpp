#include "projections/notifications.h"

#include <cassert>

#include <fmt/format.h>

namespace tl {
namespace {

template <size_t... I>
std::string_view kind_name(uint8_t kind, std::index_sequence<I...>) {
  std::string_view name;
  // The fold stops at the matching alternative; its value is not needed.
  static_cast<void>(((I == kind ? (name = std::variant_alternative_t<I, EventData>::name, true) : false) || ...));
  return name;
}

std::string_view event_kind_name(uint8_t kind) {
  return kind_name(kind, std::make_index_sequence<std::variant_size_v<EventData>>{});
}

template <class T>
constexpr uint8_t kind_of() {
  return static_cast<uint8_t>(EventData(T{}).index());
}

std::string booking_text(const Booking& b, uint8_t kind, Role reader) {
  const std::string when = format_rfc3339(b.scheduled_start);
  if (kind == kind_of<BookingRequested>()) return fmt::format("New booking request: {} at {}", b.subject, when);
  if (kind == kind_of<BookingAccepted>()) return fmt::format("Booking accepted: {} at {}", b.subject, when);
  if (kind == kind_of<BookingDeclined>()) return fmt::format("Booking declined: {} at {}", b.subject, when);
  if (kind == kind_of<BookingCancelled>()) return fmt::format("Booking cancelled: {} at {}", b.subject, when);
  if (kind == kind_of<BookingExpired>()) return fmt::format("Booking expired: {} at {}", b.subject, when);
  if (kind == kind_of<PaymentCaptured>()) return fmt::format("Payment confirmed: {} for {} at {}", format_money(b.price), b.subject, when);
  if (kind == kind_of<PaymentRejected>()) return fmt::format("Payment not accepted for {} at {}", b.subject, when);
  if (kind == kind_of<SessionStarted>()) return fmt::format("Session started: {}", b.subject);
  if (kind == kind_of<SessionEnded>()) return fmt::format("Session completed: {}", b.subject);
  if (kind == kind_of<BookingNoShow>()) return fmt::format("Session missed: nobody started {} at {}", b.subject, when);
  // A notification keeps saying what its event said: the figures of later events (a dispute's
  // resolution changes tutor_amount) must not rewrite it.
  if (kind == kind_of<EscrowReleaseScheduled>()) {
    return fmt::format("Payment of {} will be released at {}",
                       format_money(Money{b.scheduled_release_amount.value_or(0), b.price.currency}),
                       b.release_at ? format_rfc3339(*b.release_at) : std::string("a later time"));
  }
  if (kind == kind_of<EscrowReleased>()) {
    return fmt::format("Payment received: {}", format_money(Money{b.tutor_amount.value_or(0), b.price.currency}));
  }
  if (kind == kind_of<EscrowRefunded>()) {
    return fmt::format("Refund issued: {}", format_money(Money{b.refunded_amount.value_or(0), b.price.currency}));
  }
  if (kind == kind_of<DisputeOpened>()) return fmt::format("Session disputed: {}", b.subject);
  if (kind == kind_of<DisputeResolved>()) {
    // What the tutor is paid by a resolution is a payout, and a payout reads as API.md says.
    if (reader == Role::tutor && b.tutor_amount.value_or(0) > 0) {
      return fmt::format("Payment received: {}", format_money(Money{*b.tutor_amount, b.price.currency}));
    }
    return fmt::format("Dispute resolved: {} refunded, {} paid to the tutor",
                       format_money(Money{b.refunded_amount.value_or(0), b.price.currency}),
                       format_money(Money{b.tutor_amount.value_or(0), b.price.currency}));
  }
  if (kind == kind_of<SessionRated>()) return fmt::format("New rating: {} of 5 stars for {}", b.rating_stars, b.subject);
  return fmt::format("Booking update: {}", b.subject);
}

std::string withdrawal_text(const Withdrawal& w, uint8_t kind) {
  if (kind == kind_of<WithdrawalRequested>()) return fmt::format("Withdrawal requested: {}", format_money(w.amount));
  if (kind == kind_of<WithdrawalCompleted>()) return fmt::format("Withdrawal paid out: {}", format_money(w.amount));
  if (kind == kind_of<WithdrawalFailed>()) return fmt::format("Withdrawal failed, {} returned to your balance", format_money(w.amount));
  return fmt::format("Withdrawal update: {}", format_money(w.amount));
}

}  // namespace

bool is_withdrawal_notification(uint8_t kind) {
  return kind == kind_of<WithdrawalRequested>() || kind == kind_of<WithdrawalCompleted>() ||
         kind == kind_of<WithdrawalFailed>();
}

NotificationView render_notification(const State& state, const Notification& notification, Role reader) {
  NotificationView view;
  view.id = fmt::format("n_{}", static_cast<uint64_t>(notification.position));
  view.type = snake_case(event_kind_name(notification.event_kind));
  view.at = notification.at;
  if (is_withdrawal_notification(notification.event_kind)) {
    assert(notification.subject < state.withdrawals.size());
    view.text = withdrawal_text(state.withdrawals[notification.subject], notification.event_kind);
  } else {
    assert(notification.subject < state.bookings.size());
    const Booking& booking = state.bookings[notification.subject];
    view.booking_id = booking.id;
    view.text = booking_text(booking, notification.event_kind, reader);
  }
  return view;
}

}  // namespace tl
