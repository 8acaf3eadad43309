#include "projections/pending_timer.h"

#include <algorithm>

namespace tl {

std::string_view timer_kind_name(TimerKind kind) {
  switch (kind) {
    case TimerKind::expire_request: return "expire_request";
    case TimerKind::expire_unpaid: return "expire_unpaid";
    case TimerKind::close_start_window: return "close_start_window";
    case TimerKind::auto_end_session: return "auto_end_session";
    case TimerKind::release_escrow: return "release_escrow";
  }
  return "unknown";
}

TimeMs request_expires_at(const Booking& booking, const Policy& policy) {
  return std::min(booking.created_at + policy.request_expiry_ms, booking.scheduled_start);
}

TimeMs start_window_opens_at(const Booking& booking, const Policy& policy) {
  return booking.scheduled_start - policy.start_window_before_ms;
}

TimeMs start_window_closes_at(const Booking& booking, const Policy& policy) {
  return booking.scheduled_start + policy.start_window_after_ms;
}

TimeMs auto_end_at(const Booking& booking, const Policy& policy) {
  return booking.scheduled_end() + policy.auto_end_grace_ms;
}

std::optional<PendingTimer> pending_timer(const Booking& booking, const Policy& policy) {
  switch (booking.status) {
    case BookingStatus::requested: return PendingTimer{TimerKind::expire_request, request_expires_at(booking, policy)};
    case BookingStatus::accepted: return PendingTimer{TimerKind::expire_unpaid, booking.scheduled_start};
    case BookingStatus::confirmed:
      return PendingTimer{TimerKind::close_start_window, start_window_closes_at(booking, policy)};
    case BookingStatus::in_session: return PendingTimer{TimerKind::auto_end_session, auto_end_at(booking, policy)};
    case BookingStatus::completed:
      if (booking.escrow_status == EscrowStatus::release_scheduled && booking.release_at) {
        return PendingTimer{TimerKind::release_escrow, *booking.release_at};
      }
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace tl
