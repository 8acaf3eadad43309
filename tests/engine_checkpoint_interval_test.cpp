// The scheduled checkpoint: the time-based trigger (an interval far beyond any run must never
// fire), and its writing beside the writer.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <future>

#include "support/engine_fixture.h"
#include "support/eventually.h"

using namespace tl;
using namespace tl::test;

TEST_CASE("AnIntervalTooLargeForNanosecondsDoesNotCheckpointEveryBatch") {
  EngineFixture f;
  // In nanoseconds this interval overflows int64; it once compared as negative and every batch
  // wrote a full checkpoint of the projections.
  f.options.checkpoint_interval_ms = INT64_MAX / 4;
  f.options.checkpoint_on_stop = false;
  f.restart();
  for (int i = 0; i < 3; ++i) {
    const Reply reply = f.run(student(), RequestBooking{"bk_" + std::to_string(i), "t1", "Mathematics", example_start,
                                                        60, etb_amount(35000)});
    REQUIRE(reply.status == 200);
  }
  CHECK(f.engine->stats().batches_total == 3);
  CHECK(f.engine->stats().checkpoints_total == 0);
}

TEST_CASE("AnElapsedIntervalStillCheckpointsAfterTheNextBatch") {
  EngineFixture f;
  f.options.checkpoint_interval_ms = 0;  // due at once: the next batch with events writes one
  f.options.checkpoint_on_stop = false;
  f.restart();
  REQUIRE(f.run(student(), RequestBooking{"bk_1", "t1", "Mathematics", example_start, 60, etb_amount(35000)}).status ==
          200);
  // Written beside the writer: it lands shortly after the batch's answer.
  CHECK(eventually([&] { return f.engine->stats().checkpoints_total == 1; }, 5000));
  CHECK(f.engine->stats().checkpoint_position == f.engine->log().head().position);
}

// A scheduled checkpoint is hashed and written beside the writer: commands are answered while it
// is being written (at 10M events writing one took seconds, and every command waited for it).
TEST_CASE("CommandsAreAnsweredWhileAScheduledCheckpointIsWritten") {
  EngineFixture f;
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  f.options.checkpoint_interval_ms = 0;  // due after the first batch with events
  f.options.checkpoint_on_stop = false;
  f.options.before_checkpoint_write = [&entered, released] {
    entered.set_value();
    released.wait();
  };
  f.restart();
  const auto book = [&f](const std::string& id) {
    return std::async(std::launch::async, [&f, id] {
      return f.run(student(), RequestBooking{id, "t1", "Mathematics", example_start, 60, etb_amount(35000)});
    });
  };
  const auto within_5s = [](const std::future<Reply>& reply) {
    return reply.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  };
  auto first = book("bk_1");
  REQUIRE(entered.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const uint64_t checkpoint_at = f.engine->log().head().position;

  // The checkpoint is held mid-write; the writer still answers, decides and appends.
  auto second = book("bk_2");
  const bool answered = within_5s(first) && within_5s(second);
  CHECK(f.engine->stats().checkpoints_total == 0);
  release.set_value();
  REQUIRE(answered);
  CHECK(first.get().status == 200);
  CHECK(second.get().status == 200);

  // Once written, it is the checkpoint of the state as of the first batch, and a start uses it.
  REQUIRE(eventually([&] { return f.engine->stats().checkpoints_total == 1; }, 5000));
  CHECK(f.engine->stats().checkpoint_position == checkpoint_at);
  f.options.before_checkpoint_write = nullptr;
  f.restart();
  CHECK(f.engine->recovery().checkpoint_used);
  CHECK(f.engine->recovery().checkpoint_position == checkpoint_at);
  CHECK(f.engine->recovery().events_replayed == f.engine->log().head().position - checkpoint_at);
  CHECK(f.booking("bk_2").id == "bk_2");
}

// A server that goes quiet still writes its interval checkpoint when the interval is up, without
// waiting for another write (a crash during the quiet would replay all those events at start-up).
TEST_CASE("AQuietServerWritesItsIntervalCheckpointWithoutAnotherWrite") {
  EngineFixture f;
  f.options.checkpoint_interval_ms = 1500;
  f.options.checkpoint_on_stop = false;
  f.restart();
  REQUIRE(f.run(student(), RequestBooking{"bk_1", "t1", "Mathematics", example_start, 60, etb_amount(35000)}).status ==
          200);
  CHECK(eventually([&] { return f.engine->stats().checkpoints_total == 1; }, 10'000));
  CHECK(f.engine->stats().checkpoint_position == f.engine->log().head().position);
}
