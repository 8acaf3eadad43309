#pragma once
// An engine over a temporary folder with a manual clock, and synchronous helpers for tests.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "support/domain_harness.h"
#include "support/log_test_support.h"

namespace tl::test {

class EngineFixture {
 public:
  explicit EngineFixture(TimeMs start = example_start - 2 * ms_per_day);
  ~EngineFixture();

  void open();
  void close();  // graceful stop
  void restart() { close(); open(); }

  // Submits and waits for the reply.
  Reply run(const Actor& actor, CommandBody body, std::optional<IdempotencyTag> idempotency = std::nullopt);
  // Moves the test clock (firing due timers) and waits.
  void advance_to(TimeMs to);
  void advance_by(TimeMs delta) { advance_to(engine->now() + delta); }

  // Decoded events of the whole log, in order.
  std::vector<Event> events() const;
  size_t count_events(std::string_view type) const;
  State rebuilt_from_log() const;

  // Shortcuts: each REQUIREs a 2xx reply.
  void book(const std::string& booking_id, TimeMs start, const Actor& by = student(), const std::string& tutor_id = "t1");
  // Accepts and opens checkout; returns the booking's tx_ref, for a capture of the test's choosing.
  std::string accept_and_checkout(const std::string& booking_id, const Actor& by_tutor = tutor(),
                                  const Actor& by_student = student());
  void accept_and_pay(const std::string& booking_id, const Actor& by_tutor = tutor(), const Actor& by_student = student());
  Booking booking(const std::string& id) const;

  logtest::TempFolder folder;
  EngineOptions options;
  TimeMs start_time;
  std::unique_ptr<Engine> engine;
  std::atomic<uint64_t> commands_submitted{0};  // command ids "test-1", "test-2", ...
};

}  // namespace tl::test
