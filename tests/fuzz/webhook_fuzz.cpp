// The payment webhook's parsing path: the x-chapa-signature check (api/webhook_signature.h) and
// the body read with the webhook's fields (api/json_body.h), then its decimal amount
// (projections/money.h). Input: "<signature header>\n<raw body>". Properties: the body's own
// signature verifies (in either hex case) and a changed one does not; a parsed amount formats back
// to the same number of minor units.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "api/webhook_signature.h"
#include "fuzz_check.h"
#include "projections/money.h"

namespace {

constexpr std::string_view secret = "fuzz-secret";

void check_signatures(std::string_view header, std::string_view body) {
  (void)tl::verify_webhook_signature(body, header, secret);
  const std::string good = tl::sign_webhook(body, secret);
  FUZZ_CHECK(good.size() == 64);
  FUZZ_CHECK(tl::verify_webhook_signature(body, good, secret));
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  FUZZ_CHECK(tl::verify_webhook_signature(body, upper, secret));
  std::string changed = good;
  changed[body.size() % 64] = changed[body.size() % 64] == '0' ? '1' : '0';
  FUZZ_CHECK(!tl::verify_webhook_signature(body, changed, secret));
  FUZZ_CHECK(!tl::verify_webhook_signature(body, good, "another-secret"));
  FUZZ_CHECK(!tl::verify_webhook_signature(body, good, ""));
}

void read_body(std::string_view body) {
  std::string event;
  std::string tx_ref;
  std::string amount;
  std::string currency;
  std::string status;
  std::string reference;
  const tl::Status read = tl::read_json_body(
      body, {tl::json_field("event", event, 64), tl::json_field("tx_ref", tx_ref, 128),
             tl::json_field("amount", amount, 40), tl::json_field("currency", currency, 8),
             tl::json_field("status", status, 32), tl::json_field("reference", reference, 128)});
  if (!read.is_ok()) return;
  const auto parsed_currency = tl::Currency::parse(currency);
  if (!parsed_currency) return;
  const auto minor_units = tl::parse_decimal_amount(amount, *parsed_currency);
  if (!minor_units) return;
  const std::string formatted = tl::format_decimal_amount(*minor_units, *parsed_currency);
  FUZZ_CHECK(tl::parse_decimal_amount(formatted, *parsed_currency) == minor_units);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  const size_t newline = input.find('\n');
  const std::string_view header = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);
  check_signatures(header, body);
  read_body(body);
  return 0;
}
