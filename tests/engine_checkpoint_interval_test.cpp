// The time-based checkpoint trigger: an interval far beyond any run must never fire.
#include <doctest/doctest.h>

#include <cstdint>

#include "support/engine_fixture.h"

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
  CHECK(f.engine->stats().checkpoints_total == 1);
  CHECK(f.engine->stats().checkpoint_position == f.engine->log().head().position);
}
