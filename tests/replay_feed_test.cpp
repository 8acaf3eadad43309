// The two-thread event feed of replay rebuild (replay/pipelined_feed.h) against the one-thread
// feed of the exports (replay/event_feed.h): the same events, hashes and stopping points.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "engine/event_codec.h"
#include "engine/log_store.h"
#include "replay/event_feed.h"
#include "replay/pipelined_feed.h"
#include "support/log_test_support.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::replay;
using namespace tl::test;

namespace {

struct Visited {
  uint64_t position = 0;
  std::string type;
  TimeMs at = 0;
  Digest hash{};
  bool operator==(const Visited&) const = default;
};

std::unique_ptr<LogStore> open_seed() {
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> log;
  REQUIRE(LogStore::open(shared_seed_dir(), options, &log).is_ok());
  return log;
}

std::vector<Visited> one_thread(const LogStore& log, const FeedLimits& limits, FeedResult* result) {
  std::vector<Visited> seen;
  Progress progress(nullptr, "feed", 0);
  *result = feed_events(log, limits, progress, [&](const EventRecord& record, const Event& event) {
    seen.push_back(Visited{event.position, std::string(event_name(event.data)), event.at, record.hash});
    return true;
  });
  return seen;
}

std::vector<Visited> two_threads(const LogStore& log, const FeedLimits& limits, FeedResult* result,
                                 ReaderDecodes reader_decodes = ReaderDecodes::when_visitor_is_behind,
                                 bool visitor_pauses = false) {
  std::vector<Visited> seen;
  Progress progress(nullptr, "feed", 0);
  PipelineOptions options;
  options.reader_decodes = reader_decodes;
  *result = feed_events_pipelined(
      log, limits, progress,
      [&](const Event& event, const Digest& hash) {
        seen.push_back(Visited{event.position, std::string(event_name(event.data)), event.at, hash});
        // A visitor that falls behind at its first event: the reader hands the next batches over
        // meanwhile, and finds the ones before them still waiting.
        if (visitor_pauses && seen.size() == 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return true;
      },
      options);
  return seen;
}

const ReaderDecodes every_policy[] = {ReaderDecodes::when_visitor_is_behind, ReaderDecodes::always, ReaderDecodes::never};

// A log of `good_before` decodable events, then one whose data lacks its type's fields (chained
// and hashed like any other), then one more good one.
std::unique_ptr<LogStore> log_with_undecodable_event(const logtest::TempFolder& folder, size_t good_before) {
  const std::string good = R"({"booking_id":"bk_1","channel":"tl-bk_1"})";
  {
    LogOptions options;
    options.sync = false;
    std::unique_ptr<LogStore> log = logtest::open_log(folder.path(), options);
    auto append = [&](const std::string& data) {
      REQUIRE(log->append(logtest::single("booking-bk_1", ExpectedVersion::any(), {logtest::event("SessionStarted", data)}))
                  .status.is_ok());
    };
    for (size_t i = 0; i < good_before; ++i) append(good);
    append(R"({"booking":"bk_1"})");
    append(good);
  }
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> log;
  REQUIRE(LogStore::open(folder.path(), options, &log).is_ok());
  return log;
}

}  // namespace

TEST_CASE("ThePipelinedFeedVisitsWhatTheOneThreadFeedVisits") {
  auto log = open_seed();
  std::vector<FeedLimits> cases(3);
  cases[1].position_max = 10;
  cases[2].at_max = seed_before_releases;
  for (const FeedLimits& limits : cases) {
    CAPTURE(limits.position_max);
    CAPTURE(limits.at_max);
    FeedResult sequential;
    FeedResult pipelined;
    const std::vector<Visited> expected = one_thread(*log, limits, &sequential);
    const std::vector<Visited> got = two_threads(*log, limits, &pipelined);
    REQUIRE(sequential.status.is_ok());
    CHECK(pipelined.status.is_ok());
    CHECK(got == expected);
    CHECK(pipelined.events_visited == expected.size());
    CHECK(pipelined.last_position == expected.back().position);
    CHECK_FALSE(expected.empty());
  }
  // The limits cut the log where they say.
  FeedResult all;
  const size_t events = one_thread(*log, FeedLimits{}, &all).size();
  CHECK(events == log->head().position);
  FeedLimits ten;
  ten.position_max = 10;
  FeedResult cut;
  CHECK(two_threads(*log, ten, &cut).size() == 10);
}

TEST_CASE("ThePipelinedFeedStopsWhenItsVisitorSaysSo") {
  auto log = open_seed();
  Progress progress(nullptr, "feed", 0);
  size_t visited = 0;
  const FeedResult result = feed_events_pipelined(*log, FeedLimits{}, progress, [&](const Event&, const Digest&) {
    return ++visited < 5;
  });
  CHECK(result.status.is_ok());
  CHECK(visited == 5);
  CHECK(result.events_visited == 5);
  CHECK(result.last_position == 5);
}

TEST_CASE("EitherThreadMayDecodeTheEventsWithTheSameVisits") {
  // The reader decodes a batch itself when the visitor is behind (ReaderDecodes): whichever thread
  // decodes, the visits, hashes and stopping points are the one-thread feed's.
  auto log = open_seed();
  std::vector<FeedLimits> cases(3);
  cases[1].position_max = 10;
  cases[2].at_max = seed_before_releases;
  for (const ReaderDecodes policy : every_policy) {
    for (const FeedLimits& limits : cases) {
      CAPTURE(static_cast<int>(policy));
      CAPTURE(limits.position_max);
      FeedResult sequential;
      FeedResult pipelined;
      const std::vector<Visited> expected = one_thread(*log, limits, &sequential);
      CHECK(two_threads(*log, limits, &pipelined, policy) == expected);
      CHECK(pipelined.status.is_ok());
      CHECK(pipelined.last_position == expected.back().position);
    }
  }
  // Several batches, the visitor falling behind now and then: some batches decoded by each side.
  logtest::TempFolder folder;
  auto long_log = log_with_undecodable_event(folder, 3 * pipeline_batch_events_max + 100);
  FeedLimits before_damage;
  before_damage.position_max = 3 * pipeline_batch_events_max + 100;
  FeedResult sequential;
  const std::vector<Visited> expected = one_thread(*long_log, before_damage, &sequential);
  REQUIRE(sequential.status.is_ok());
  for (const ReaderDecodes policy : every_policy) {
    CAPTURE(static_cast<int>(policy));
    FeedResult pipelined;
    CHECK(two_threads(*long_log, before_damage, &pipelined, policy, /*visitor_pauses=*/true) == expected);
    CHECK(pipelined.status.is_ok());
    CHECK(pipelined.events_visited == before_damage.position_max);
    if (policy == ReaderDecodes::always) CHECK(pipelined.events_decoded_by_reader == pipelined.events_visited);
    if (policy == ReaderDecodes::never) CHECK(pipelined.events_decoded_by_reader == 0);
    if (policy == ReaderDecodes::when_visitor_is_behind) {
      // The visitor's pause leaves batches waiting: the reader decodes some of them; never the
      // first, which it hands over before any other.
      CHECK(pipelined.events_decoded_by_reader > 0);
      CHECK(pipelined.events_decoded_by_reader < pipelined.events_visited);
    }
  }
}

TEST_CASE("AnUndecodableEventStopsTheFeedAtItsPositionWhicheverThreadDecodesIt") {
  logtest::TempFolder folder;
  const uint64_t bad_position = pipeline_batch_events_max + 7;  // in the second batch
  auto log = log_with_undecodable_event(folder, bad_position - 1);
  FeedResult sequential;
  one_thread(*log, FeedLimits{}, &sequential);
  REQUIRE_FALSE(sequential.status.is_ok());
  for (const ReaderDecodes policy : every_policy) {
    CAPTURE(static_cast<int>(policy));
    FeedResult pipelined;
    const std::vector<Visited> seen = two_threads(*log, FeedLimits{}, &pipelined, policy);
    CHECK(seen.size() == bad_position - 1);
    CHECK(pipelined.events_visited == bad_position - 1);
    CHECK(pipelined.last_position == bad_position - 1);
    CHECK(pipelined.status.message() == sequential.status.message());
    CHECK(pipelined.damage().position == bad_position);
    if (policy == ReaderDecodes::always) CHECK(pipelined.events_decoded_by_reader == bad_position - 1);
    CHECK_MESSAGE(pipelined.status.message().find("expected field booking_id") != std::string::npos,
                  pipelined.status.message());
  }
}
