#pragma once
// The one timer a booking may be waiting for, derived from its state (DESIGN section 5). The
// timing wheel is rebuilt from this after a restart: the projections are the source of truth.
#include <optional>
#include <string_view>

#include "projections/policy.h"
#include "projections/state.h"

namespace tl {

enum class TimerKind : uint8_t { expire_request, expire_unpaid, close_start_window, auto_end_session, release_escrow };

std::string_view timer_kind_name(TimerKind kind);

struct PendingTimer {
  TimerKind kind;
  TimeMs due = 0;
};

// requested → request expiry; accepted → unpaid expiry at scheduled_start; confirmed → the start
// window closes (no-show); in_session → auto-end; escrow release_scheduled → release.
std::optional<PendingTimer> pending_timer(const Booking& booking, const Policy& policy);

// Deadlines, shared by decide (which refuses late commands) and pending_timer.
TimeMs request_expires_at(const Booking& booking, const Policy& policy);
TimeMs start_window_opens_at(const Booking& booking, const Policy& policy);
TimeMs start_window_closes_at(const Booking& booking, const Policy& policy);
TimeMs auto_end_at(const Booking& booking, const Policy& policy);

}  // namespace tl
