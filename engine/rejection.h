#pragma once
// Why decide refused a command. One enum, in the order of precedence in which decide checks
// (API.md: 403 role → 400 fields → 404 → 403 party → 409 state); each maps to one error code.
#include <cstdint>
#include <string_view>

namespace tl {

enum class Rejection : uint8_t {
  none = 0,
  // 403: this role may never issue this command.
  role_not_allowed,
  // 400: the command's own fields.
  field_invalid,
  // 404
  booking_not_found,
  withdrawal_not_found,
  // 403: a valid user, but not a party to this booking.
  not_a_party,
  // 400: fields that can only be judged against the booking (e.g. refund above the price).
  field_invalid_for_booking,
  // 409
  already_exists,
  invalid_transition,
  outside_window,
  insufficient_funds,
};

// The contract's error code: invalid_request, forbidden, not_found, invalid_transition,
// outside_window, insufficient_funds.
std::string_view rejection_code(Rejection rejection);
int rejection_http_status(Rejection rejection);

}  // namespace tl
