// The two-thread event feed of replay rebuild (replay/pipelined_feed.h) against the one-thread
// feed of the exports (replay/event_feed.h): the same events, hashes and stopping points.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/event_codec.h"
#include "engine/log_store.h"
#include "replay/event_feed.h"
#include "replay/pipelined_feed.h"
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

std::vector<Visited> two_threads(const LogStore& log, const FeedLimits& limits, FeedResult* result) {
  std::vector<Visited> seen;
  Progress progress(nullptr, "feed", 0);
  *result = feed_events_pipelined(log, limits, progress, [&](const Event& event, const Digest& hash) {
    seen.push_back(Visited{event.position, std::string(event_name(event.data)), event.at, hash});
    return true;
  });
  return seen;
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
