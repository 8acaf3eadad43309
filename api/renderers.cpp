#include "api/renderers.h"

#include <cassert>

#include "projections/evolve.h"
#include "projections/json_text.h"
#include "projections/views.h"

namespace tl::api {
namespace {

// The command's events as the log will hold them (positions are not needed by the previews).
template <class Apply>
void apply_decided_events(const RenderInput& input, Apply&& apply) {
  Event event;
  event.stream = input.decision.stream;
  event.at = input.command.now;
  event.actor = input.command.actor;
  event.command_id = input.command.command_id;
  for (size_t i = 0; i < input.decision.events.size(); ++i) {
    event.version = input.decision.expected_version + static_cast<uint32_t>(i) + 1;
    event.data = input.decision.events[i];
    apply(event);
  }
}

// The booking after this command: the durable booking plus the command's own events.
std::optional<Booking> booking_after(const RenderInput& input) {
  std::string_view id = booking_id_of(input.command.body);
  if (!input.decision.events.empty()) id = booking_id_of(input.decision.events.front());
  const Booking* current = input.state.find_booking(id);
  std::optional<Booking> booking;
  if (current != nullptr) booking = *current;
  apply_decided_events(input, [&booking](const Event& event) {
    if (!booking) booking.emplace();
    apply_to_booking(*booking, event);
  });
  return booking;
}

}  // namespace

Reply rejection_reply(const Decision& decision) {
  assert(decision.rejected());
  return error_reply(rejection_http_status(decision.rejection), rejection_code(decision.rejection), decision.message);
}

Reply booking_reply(const RenderInput& input, int success_status) {
  if (input.decision.rejected()) return rejection_reply(input.decision);
  const auto booking = booking_after(input);
  assert(booking);
  return Reply{success_status, views::booking_json(*booking), false};
}

Reply session_reply(const RenderInput& input) {
  if (input.decision.rejected()) return rejection_reply(input.decision);
  const auto booking = booking_after(input);
  assert(booking);
  std::string body = "{\"booking\":";
  views::append_booking(body, *booking);
  body += '}';
  return Reply{200, std::move(body), false};
}

Reply checkout_reply(const RenderInput& input) {
  if (input.decision.rejected()) return rejection_reply(input.decision);
  const auto booking = booking_after(input);
  assert(booking && booking->has_payment_ref());
  std::string body = "{\"tx_ref\":";
  json::append_string(body, booking->payment_ref());
  body += ",\"amount\":";
  views::append_money(body, booking->price);
  body += '}';
  return Reply{200, std::move(body), false};
}

Reply withdrawal_reply(const RenderInput& input, int success_status) {
  if (input.decision.rejected()) return rejection_reply(input.decision);
  std::optional<Withdrawal> withdrawal;
  apply_decided_events(input, [&](const Event& event) {
    if (!withdrawal) {
      const std::string_view id = withdrawal_id_of(event.data);
      if (const Withdrawal* current = input.state.find_withdrawal(id)) withdrawal = *current;
      if (!withdrawal) withdrawal.emplace();
    }
    apply_to_withdrawal(*withdrawal, event);
  });
  assert(withdrawal);
  return Reply{success_status, views::withdrawal_json(*withdrawal), false};
}

Reply webhook_reply(const RenderInput& input, std::string_view reference, std::string_view tx_ref) {
  if (input.decision.rejection == Rejection::booking_not_found) {
    return Reply{200, R"({"accepted":false,"reason":"unknown_tx_ref"})", false};
  }
  if (input.decision.rejected()) return rejection_reply(input.decision);
  std::string body;
  auto accepted_body = [&body](bool accepted, std::string_view reason, bool duplicate) {
    body = accepted ? "{\"accepted\":true" : "{\"accepted\":false";
    if (!accepted) {
      body += ",\"reason\":";
      json::append_string(body, reason);
    }
    if (duplicate) body += ",\"duplicate\":true";
    body += '}';
  };
  for (const auto& event : input.decision.events) {
    if (std::holds_alternative<PaymentCaptured>(event)) {
      accepted_body(true, {}, false);
      return Reply{200, body, false};
    }
    if (const auto* rejected = std::get_if<PaymentRejected>(&event)) {
      accepted_body(false, rejected->reason, false);
      return Reply{200, body, false};
    }
  }
  // Nothing decided: a repeat delivery of a reference already seen.
  auto found = input.state.payments.find(reference);
  if (found == input.state.payments.end()) return Reply{200, R"({"accepted":false,"reason":"ignored"})", false};
  // A provider reference names one payment: the same reference for another tx_ref is not a
  // repeat delivery, and telling the provider `accepted` would claim a payment that never was.
  assert(found->second.booking < input.state.bookings.size());
  if (input.state.bookings[found->second.booking].payment_ref() != tx_ref) {
    accepted_body(false, "reference_already_used", false);
    return Reply{200, body, false};
  }
  accepted_body(found->second.accepted, found->second.reason, true);
  return Reply{200, body, false};
}

}  // namespace tl::api
