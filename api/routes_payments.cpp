// The payment provider's webhook (Chapa-compatible): signed raw body, exact amount matching.
#include <algorithm>

#include <fmt/format.h>

#include "api/app.h"
#include "api/json_body.h"
#include "api/renderers.h"
#include "api/route_support.h"
#include "api/webhook_signature.h"
#include "engine/text_checks.h"

namespace tl::api {
namespace {

constexpr size_t webhook_text_bytes_max = 128;

// "350", "350.00": digits with an optional fraction; anything else is malformed (400), while a
// well-formed amount that does not match the booking is a PaymentRejected decision.
bool decimal_shape(std::string_view text) {
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  auto digits = [](std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }); };
  return digits(whole) && (point == std::string_view::npos || digits(fraction));
}

}  // namespace

void App::add_payment_routes(Router& router) {
  add_route(router, "POST", payment_webhook_path, [this](HttpRequest&& request, RouteParams, Respond respond) {
    if (config_.webhook_secret.empty() ||
        !verify_webhook_signature(request.body, request.chapa_signature, config_.webhook_secret)) {
      return respond(error_http(401, "bad_signature", "x-chapa-signature is missing or does not match the body"));
    }
    std::string event;
    std::string tx_ref;
    std::string amount;
    std::string currency;
    std::string status;
    std::string reference;
    const Status parsed = read_json_body(request.body, {json_field("event", event, webhook_text_bytes_max),
                                                        json_field("tx_ref", tx_ref, webhook_text_bytes_max),
                                                        json_field("amount", amount, webhook_text_bytes_max),
                                                        json_field("currency", currency, webhook_text_bytes_max),
                                                        json_field("status", status, webhook_text_bytes_max),
                                                        json_field("reference", reference, webhook_text_bytes_max)});
    if (!parsed.is_ok()) return respond(error_http(400, "invalid_request", parsed.message(), "system"));
    // No control characters, as in everything people type. The ledger's own rules (decide) check
    // the fields it keeps under their names; these two reach it only inside a rejection's reason.
    for (const auto& [field, text] : {std::pair{"event", &event}, std::pair{"status", &status}}) {
      if (has_control_character(*text, false)) {
        return respond(error_http(400, "invalid_request", fmt::format("{}: must not contain control characters", field), "system"));
      }
    }
    if (!decimal_shape(amount)) {
      return respond(error_http(400, "invalid_request", "amount: must be a decimal string such as \"350.00\"", "system"));
    }
    CommandBody body;
    if (event == "charge.success" && status == "success") {
      body = CapturePayment{tx_ref, reference, amount, currency};
    } else if (event != "charge.success") {
      // Name what was wrong: a failed charge reported with status "success" is not a status problem.
      body = RejectPayment{tx_ref, reference, "provider_event:" + event, amount, currency};
    } else {
      body = RejectPayment{tx_ref, reference, "provider_status:" + status, amount, currency};
    }
    submit(engine_, request,
           {system_actor(), std::move(body), [reference, tx_ref](const RenderInput& in) { return webhook_reply(in, reference, tx_ref); }, {}},
           std::move(respond));
  });
}

}  // namespace tl::api
