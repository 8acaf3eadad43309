#pragma once
// The contract's JSON objects (../shared/API.md), rendered from the projections. Shared by the
// HTTP API, the replay CLI and the read replica so that all three say the same thing.
#include <string>
#include <string_view>

#include "projections/notifications.h"
#include "projections/policy.h"
#include "projections/state.h"

namespace tl::views {

// {"amount":35000,"currency":"ETB"}
void append_money(std::string& out, const Money& money);
// The booking object, with its session, escrow and rating.
void append_booking(std::string& out, const Booking& booking);
std::string booking_json(const Booking& booking);
// The withdrawal object.
void append_withdrawal(std::string& out, const Withdrawal& withdrawal);
std::string withdrawal_json(const Withdrawal& withdrawal);
// {"id","type","text","booking_id","at"}
void append_notification(std::string& out, const NotificationView& notification);
// {"balances":[{"currency","available","pending_release","withdrawing"}]} for one tutor.
std::string balances_json(const State& state, std::string_view tutor_id);
// The session status of GET /api/sessions/{id}/status at `now`.
std::string session_status_json(const Booking& booking, const Policy& policy, TimeMs now);

// The event object: {"position","stream","version","type","at","actor","data","hash"}; `data`
// is inserted as it is: the HTTP view of it (projections/event_view.h).
struct EventFields {
  uint64_t position;
  std::string_view stream;
  uint32_t version;
  std::string_view type;
  TimeMs at;
  std::string_view actor;
  std::string_view data;
  std::string_view hash_hex;
};
void append_event(std::string& out, const EventFields& event);

}  // namespace tl::views
