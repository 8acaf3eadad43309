#include "support/engine_fixture.h"

#include <future>

#include <doctest/doctest.h>

#include "engine/event_codec.h"
#include "engine/recovery.h"

namespace tl::test {

EngineFixture::EngineFixture(TimeMs start) : start_time(start) {
  options.data_dir = folder.sub("data");
  open();
}

EngineFixture::~EngineFixture() { close(); }

void EngineFixture::open() {
  REQUIRE(engine == nullptr);
  const Status status = Engine::open(options, std::make_unique<ManualClock>(start_time), &engine);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
}

void EngineFixture::close() {
  if (engine == nullptr) return;
  start_time = engine->now();  // a restart resumes the test clock where it was
  engine->stop();
  engine.reset();
}

Reply EngineFixture::run(const Actor& actor, CommandBody body, std::optional<IdempotencyTag> idempotency) {
  std::promise<Reply> promise;
  auto future = promise.get_future();
  Submission submission;
  submission.command.actor = actor;
  submission.command.command_id = "test-" + std::to_string(++commands_submitted);
  submission.command.body = std::move(body);
  submission.idempotency = std::move(idempotency);
  submission.done = [&promise](Reply reply) { promise.set_value(std::move(reply)); };
  REQUIRE(engine->submit(std::move(submission)) == SubmitResult::queued);
  return future.get();
}

void EngineFixture::advance_to(TimeMs to) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  REQUIRE(engine->advance_clock(to, [&promise](Status status, TimeMs) { promise.set_value(status); }) ==
          SubmitResult::queued);
  const Status status = future.get();
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
}

std::vector<Event> EngineFixture::events() const {
  std::vector<Event> events;
  const Status status = engine->log().scan(1, [&](const EventRecord& record) {
    Event event;
    const Status decoded = decode_event(record, &event);
    REQUIRE_MESSAGE(decoded.is_ok(), decoded.to_string());
    events.push_back(std::move(event));
    return true;
  });
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return events;
}

size_t EngineFixture::count_events(std::string_view type) const {
  size_t count = 0;
  for (const auto& event : events()) count += event_name(event.data) == type ? 1 : 0;
  return count;
}

State EngineFixture::rebuilt_from_log() const {
  State state;
  RecoveryReport report;
  const Status status = restore_state(engine->log(), /*use_checkpoint=*/false, &state, &report);
  REQUIRE_MESSAGE(status.is_ok(), status.to_string());
  return state;
}

void EngineFixture::book(const std::string& booking_id, TimeMs start, const Actor& by, const std::string& tutor_id) {
  const Reply reply = run(by, RequestBooking{booking_id, tutor_id, "Mathematics", start, 60, etb_amount(35000)});
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
}

std::string EngineFixture::accept_and_checkout(const std::string& booking_id, const Actor& by_tutor,
                                               const Actor& by_student) {
  Reply reply = run(by_tutor, AcceptBooking{booking_id});
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  reply = run(by_student, Checkout{booking_id});
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  return booking(booking_id).payment_ref();
}

void EngineFixture::accept_and_pay(const std::string& booking_id, const Actor& by_tutor, const Actor& by_student) {
  const std::string tx_ref = accept_and_checkout(booking_id, by_tutor, by_student);
  const Booking paid = booking(booking_id);
  const Reply reply = run(system_actor(), CapturePayment{tx_ref, "ref-" + booking_id,
                                                         format_decimal_amount(paid.price.amount, paid.price.currency), "ETB"});
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  REQUIRE(booking(booking_id).status == BookingStatus::confirmed);
}

Booking EngineFixture::booking(const std::string& id) const {
  return engine->read([&](const State& state) {
    const Booking* found = state.find_booking(id);
    REQUIRE_MESSAGE(found != nullptr, id);
    return *found;
  });
}

}  // namespace tl::test
