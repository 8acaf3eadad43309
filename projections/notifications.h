#pragma once
// Renders the compact notifications of the state into what the apps show.
#include <string>

#include "projections/state.h"

namespace tl {

struct NotificationView {
  std::string id;          // "n_<position>"
  std::string type;        // the event's name in snake case: "escrow_released"
  std::string text;        // "Payment received: ETB 297.50"
  std::string booking_id;  // empty for withdrawal notifications
  TimeMs at = 0;
};

// `reader` is the role whose list holds the notification: one event may read differently to
// the student and to the tutor (a dispute resolution is a payout to the tutor).
NotificationView render_notification(const State& state, const Notification& notification, Role reader);

// Whether a notification of this event kind refers to a withdrawal (else to a booking).
bool is_withdrawal_notification(uint8_t event_kind);

}  // namespace tl
