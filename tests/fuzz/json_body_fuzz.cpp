// The request body reader (api/json_body.h) with a representative field list: strings with
// limits, bounded integers, booleans, money objects, required and optional. Properties: on
// success every destination respects its declared limits.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/json_body.h"
#include "fuzz_check.h"

namespace {

constexpr int64_t price_max = 1'000'000'000'000;

void read_booking_like(std::string_view body) {
  std::string tutor_id;
  std::string subject;
  std::string scheduled_start;
  int64_t duration_minutes = 0;
  tl::Money price;
  std::optional<std::string> reason;
  std::optional<int64_t> stars;
  std::optional<bool> notify;
  std::optional<tl::Money> refund;
  const tl::Status status = tl::read_json_body(
      body, {tl::json_field("tutor_id", tutor_id, 64), tl::json_field("subject", subject, 200),
             tl::json_field("scheduled_start", scheduled_start, 40),
             tl::json_field("duration_minutes", duration_minutes, 15, 240),
             tl::json_field("price", price, 1, price_max), tl::json_field("reason", reason, 500),
             tl::json_field("stars", stars, 1, 5), tl::json_field("notify", notify),
             tl::json_field("refund", refund, 0, price_max)});
  if (!status.is_ok()) {
    FUZZ_CHECK(status.code() == tl::Status::Code::invalid_argument && !status.message().empty());
    return;
  }
  FUZZ_CHECK(tutor_id.size() <= 64 && subject.size() <= 200 && scheduled_start.size() <= 40);
  FUZZ_CHECK(duration_minutes >= 15 && duration_minutes <= 240);
  FUZZ_CHECK(price.currency.valid() && price.amount >= 1 && price.amount <= price_max);
  FUZZ_CHECK(!reason || reason->size() <= 500);
  FUZZ_CHECK(!stars || (*stars >= 1 && *stars <= 5));
  FUZZ_CHECK(!refund || (refund->currency.valid() && refund->amount >= 0 && refund->amount <= price_max));
}

// Only optional members: most inputs get past the "missing member" check.
void read_all_optional(std::string_view body) {
  std::optional<std::string> notes;
  std::optional<int64_t> limit;
  std::optional<bool> flag;
  std::optional<tl::Money> amount;
  const tl::Status status =
      tl::read_json_body(body, {tl::json_field("notes", notes, 16), tl::json_field("limit", limit, -3, 3),
                                tl::json_field("flag", flag), tl::json_field("amount", amount)});
  if (!status.is_ok()) return;
  FUZZ_CHECK(!notes || notes->size() <= 16);
  FUZZ_CHECK(!limit || (*limit >= -3 && *limit <= 3));
  FUZZ_CHECK(!amount || amount->currency.valid());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(bytes), size);
  read_booking_like(body);
  read_all_optional(body);
  return 0;
}
