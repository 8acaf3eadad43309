#pragma once
// Renderers: turn a decision into the HTTP answer, on the writer thread, before the batch is
// written (the answer to a request with an Idempotency-Key is stored in the same WriteBatch).
// They show an entity as the command leaves it by applying the command's events to a copy.
#include "engine/engine.h"

namespace tl::api {

// A rejection as the contract's error (status and code from the rejection).
Reply rejection_reply(const Decision& decision);

// The booking object as the command leaves it; `success_status` (200 or 201) unless rejected.
Reply booking_reply(const RenderInput& input, int success_status);
// {"booking": {...}}: start and join (the route adds "rtc": api/rtc_answer.h).
Reply session_reply(const RenderInput& input);
// {"tx_ref": "...", "amount": {...}}
Reply checkout_reply(const RenderInput& input);
// The withdrawal object as the command leaves it.
Reply withdrawal_reply(const RenderInput& input, int success_status);
// Payment webhook: 200 {"accepted": true} / {"accepted": false, "reason": ...}; a repeat delivery
// answers what the first one decided, with "duplicate": true; the reference of another payment
// (another tx_ref) is {"accepted": false, "reason": "reference_already_used"}, and changes nothing.
Reply webhook_reply(const RenderInput& input, std::string_view reference, std::string_view tx_ref);

}  // namespace tl::api
