// The HTTP view of event data: instants as RFC 3339, amounts as money (API.md, Conventions).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "projections/event_view.h"
#include "projections/time.h"

using namespace tl;

namespace {

const Currency etb = *Currency::parse("ETB");
const Currency kwd = *Currency::parse("KWD");
constexpr TimeMs release_ms = 1795600800123;  // 2026-11-25T10:00:00.123Z

// Every alternative of EventData, default-constructed, in variant order.
template <size_t... I>
std::vector<EventData> every_event_type(std::index_sequence<I...>) {
  return {EventData(std::in_place_index<I>)...};
}

std::string rendered(const EventData& data, std::optional<Currency> currency) {
  std::string out;
  views::append_event_data(out, data, currency);
  return out;
}

}  // namespace

TEST_CASE("EveryIntegerFieldOfEveryEventIsAnInstantAnAmountOrAKnownCount") {
  // A new integer field must be named so that the rule places it (an instant *_at, an amount
  // *_amount), or be added here as a plain count: otherwise HTTP would show it in the log's units.
  const std::set<std::string, std::less<>> plain_counts = {"duration_minutes", "duration_seconds", "stars"};
  for (const EventData& data : every_event_type(std::make_index_sequence<std::variant_size_v<EventData>>{})) {
    std::visit(
        [&](const auto& event) {
          auto check = [&](std::string_view name, const auto& value) {
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>, int64_t>) {
              CAPTURE(name);
              CHECK((views::is_instant_field(name) || views::is_amount_field(name) || plain_counts.contains(name)));
            }
          };
          std::decay_t<decltype(event)>::fields(event, check);
        },
        data);
  }
}

TEST_CASE("InstantsAreRfc3339InWholeSecondsAndBareAmountsAreMoneyInTheBookingsCurrency") {
  const EventData scheduled = EscrowReleaseScheduled{"bk_1", release_ms, 29750, 5250};
  CHECK(views::needs_booking_currency(scheduled));
  CHECK(rendered(scheduled, etb) ==
        R"({"booking_id":"bk_1","release_at":"2026-11-25T10:00:00Z","tutor_amount":{"amount":29750,"currency":"ETB"},)"
        R"("fee_amount":{"amount":5250,"currency":"ETB"}})");

  const EventData requested = BookingRequested{"bk_2", "s1", "t1", "Maths", 1795514400000, 60, Money{12345, kwd}};
  CHECK_FALSE(views::needs_booking_currency(requested));
  CHECK(rendered(requested, std::nullopt) ==
        R"({"booking_id":"bk_2","student_id":"s1","tutor_id":"t1","subject":"Maths",)"
        R"("scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":12345,"currency":"KWD"}})");
}

TEST_CASE("EventsWithPostingsTakeTheirCurrencyFromThePostings") {
  const EventData released =
      EscrowReleased{"bk_1", 29750, 5250, {Posting{"escrow:bk_1", "tutor:t1", 29750, kwd}, Posting{"escrow:bk_1", "platform:fees", 5250, kwd}}};
  CHECK_FALSE(views::needs_booking_currency(released));
  const std::string text = rendered(released, etb);  // the postings win over a wrong hint
  CHECK(text.find(R"("tutor_amount":{"amount":29750,"currency":"KWD"})") != std::string::npos);
  CHECK(text.find(R"({"debit":"escrow:bk_1","credit":"tutor:t1","amount":29750,"currency":"KWD"})") != std::string::npos);

  const EventData refunded = EscrowRefunded{"bk_1", 35000, {Posting{"escrow:bk_1", "external:refunds", 35000, etb}}};
  CHECK(rendered(refunded, std::nullopt) ==
        R"({"booking_id":"bk_1","amount":{"amount":35000,"currency":"ETB"},)"
        R"("postings":[{"debit":"escrow:bk_1","credit":"external:refunds","amount":35000,"currency":"ETB"}]})");
}

TEST_CASE("SecondsFormatRoundsDownToTheSecondAndNeverShowsMilliseconds") {
  CHECK(format_rfc3339_seconds(release_ms) == "2026-11-25T10:00:00Z");
  CHECK(format_rfc3339_seconds(release_ms - 123) == "2026-11-25T10:00:00Z");
  CHECK(format_rfc3339_seconds(release_ms - 124) == "2026-11-25T09:59:59Z");
  CHECK(format_rfc3339_seconds(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(release_ms) == "2026-11-25T10:00:00.123Z");  // logs and the CLI keep them
}
