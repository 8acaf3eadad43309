#include "support/domain_harness.h"

#include <algorithm>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "engine/event_codec.h"
#include "projections/evolve.h"
#include "projections/invariants.h"
#include "projections/pending_timer.h"
#include "projections/views.h"

namespace tl::test {

Currency etb() { return *Currency::parse("ETB"); }
Money etb_amount(int64_t minor_units) { return Money{minor_units, etb()}; }
Actor student(std::string id) { return Actor{Role::student, std::move(id)}; }
Actor tutor(std::string id) { return Actor{Role::tutor, std::move(id)}; }
Actor admin(std::string id) { return Actor{Role::admin, std::move(id)}; }

DomainHarness::DomainHarness(TimeMs start_now) : now(start_now) {}

Decision DomainHarness::run(const Actor& actor, CommandBody body) {
  Command command{actor, now, fmt::format("c{}", ++commands_run), std::move(body)};
  Decision decision = decide(state, command, policy);
  // The preview the API shows before the batch is applied: the booking as it is now, with this
  // command's events applied to a copy. It must equal the booking after evolve.
  std::optional<Booking> preview;
  if (!decision.events.empty() && decision.stream.starts_with("booking-")) {
    const Booking* before = state.find_booking(booking_id_of(decision.events.front()));
    preview = before != nullptr ? *before : Booking{};
  }
  for (size_t i = 0; i < decision.events.size(); ++i) {
    Event event;
    event.position = state.position + 1;
    event.stream = decision.stream;
    event.version = decision.expected_version + static_cast<uint32_t>(i) + 1;
    event.at = now;
    event.actor = actor;
    event.command_id = command.command_id;
    event.data = decision.events[i];
    // The codec must give back exactly what was decided.
    const NewEvent placed = make_new_event(event.data, actor, now, command.command_id);
    const EventRecord record = placed_record(placed, event.position, event.stream, event.version);
    Event decoded;
    const Status status = decode_event(record, &decoded);
    REQUIRE_MESSAGE(status.is_ok(), status.to_string());
    REQUIRE_MESSAGE(encode_event_data(decoded.data) == placed.data, "codec round trip changed ", placed.data);
    if (preview) apply_to_booking(*preview, decoded);
    const std::string problem = evolve(state, decoded);
    REQUIRE_MESSAGE(problem.empty(), "evolve refused ", placed.type, ": ", problem);
    log.push_back(std::move(decoded));
  }
  if (preview) {
    const Booking* after = state.find_booking(preview->id);
    REQUIRE(after != nullptr);
    REQUIRE(views::booking_json(*preview) == views::booking_json(*after));
    REQUIRE(preview->dispute_reason == after->dispute_reason);
  }
  const std::string violation = check_invariants(state);
  REQUIRE_MESSAGE(violation.empty(), "after ", command_name(command.body), ": ", violation);
  return decision;
}

int DomainHarness::advance_to(TimeMs to) {
  REQUIRE(to >= now);
  int fired = 0;
  for (;;) {
    // The earliest due timer, ties by booking order: what the wheel does.
    const Booking* next = nullptr;
    std::optional<PendingTimer> next_timer;
    for (const auto& booking : state.bookings) {
      auto timer = pending_timer(booking, policy);
      if (timer && timer->due <= to && (!next_timer || timer->due < next_timer->due)) {
        next = &booking;
        next_timer = timer;
      }
    }
    if (next == nullptr) break;
    now = std::max(now, next_timer->due);
    const Decision decision = run(system_actor(), TimerFired{next_timer->kind, next->id});
    REQUIRE_MESSAGE(!decision.rejected(), decision.message);
    REQUIRE_MESSAGE(!decision.events.empty(), "a due timer decided nothing: ", timer_kind_name(next_timer->kind));
    ++fired;
  }
  now = to;
  return fired;
}

std::string DomainHarness::book(const std::string& booking_id, TimeMs start, int64_t price, const Actor& by,
                                const std::string& tutor_id) {
  const Decision decision = run(by, RequestBooking{booking_id, tutor_id, "Mathematics", start, 60, etb_amount(price)});
  REQUIRE_MESSAGE(!decision.rejected(), decision.message);
  return booking_id;
}

void DomainHarness::accept_and_pay(const std::string& booking_id, const Actor& by_tutor, const Actor& by_student) {
  Decision decision = run(by_tutor, AcceptBooking{booking_id});
  REQUIRE_MESSAGE(!decision.rejected(), decision.message);
  decision = run(by_student, Checkout{booking_id});
  REQUIRE_MESSAGE(!decision.rejected(), decision.message);
  const Booking* booking = state.find_booking(booking_id);
  REQUIRE(booking != nullptr);
  const std::string amount = format_decimal_amount(booking->price.amount, booking->price.currency);
  decision = run(system_actor(), CapturePayment{booking->payment_ref(), "ref-" + booking_id, amount,
                                                std::string(booking->price.currency.code())});
  REQUIRE_MESSAGE(!decision.rejected(), decision.message);
  REQUIRE(state.find_booking(booking_id)->status == BookingStatus::confirmed);
}

State rebuild(const std::vector<Event>& log) {
  State state;
  for (const auto& event : log) {
    const std::string problem = evolve(state, event);
    REQUIRE_MESSAGE(problem.empty(), problem);
  }
  return state;
}

}  // namespace tl::test
