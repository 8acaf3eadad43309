// Stream versions that are not in the in-memory cache are read from the index: a point look-up
// of version 1 tells a new stream apart, a backward seek finds the last version of an old one,
// and an append that expects a version checks that one first.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "engine/log_store.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

// Appends one event to each of `count` other streams: with a cache of 2 entries, every stream
// named before is evicted.
void evict_with_other_streams(LogStore& log, int count) {
  for (int i = 0; i < count; ++i) {
    REQUIRE(log.append(single("other-" + std::to_string(i), ExpectedVersion::any(), {event("E")})).status.is_ok());
  }
}

// A log whose version cache holds two streams, with "booking-a" at version 3.
std::unique_ptr<LogStore> open_log_with_stream_a_at_version_3(const TempFolder& folder) {
  LogOptions options;
  options.stream_cache_entries_max = 2;
  auto log = open_log(folder.path(), options);
  REQUIRE(log->append(single("booking-a", ExpectedVersion::no_stream(), {event("A1"), event("A2"), event("A3")}))
              .status.is_ok());
  return log;
}

}  // namespace

TEST_CASE("AnEvictedStreamIsNotMistakenForANewOne") {
  TempFolder folder;
  auto log = open_log_with_stream_a_at_version_3(folder);
  evict_with_other_streams(*log, 4);
  const uint64_t misses_before = log->stats().stream_cache_misses;

  const AppendResult again = log->append(single("booking-a", ExpectedVersion::no_stream(), {event("A4")}));
  CHECK(again.status.is_conflict());
  CHECK(log->stats().stream_cache_misses == misses_before + 1);
  evict_with_other_streams(*log, 4);
  CHECK(log->append(single("booking-a", ExpectedVersion::exact(2), {event("A4")})).status.is_conflict());
  evict_with_other_streams(*log, 4);
  const AppendResult next = log->append(single("booking-a", ExpectedVersion::exact(3), {event("A4")}));
  REQUIRE(next.status.is_ok());
  CHECK(next.records.at(0).version == 4);
}

TEST_CASE("ANewStreamMissingFromTheCacheStartsAtVersionOneAfterAReopen") {
  TempFolder folder;
  {
    auto log = open_log(folder.path());
    REQUIRE(log->append(single("booking-old", ExpectedVersion::any(), {event("E"), event("F")})).status.is_ok());
  }
  auto log = open_log(folder.path());  // an empty cache: every stream is a miss
  CHECK(log->stream_version("booking-new") == 0);
  CHECK(log->stream_version("booking-old") == 2);
  CHECK(log->stream_version("booking-ol") == 0);    // a prefix of an existing stream is another stream
  CHECK(log->stream_version("booking-old2") == 0);  // and so is an extension of it
  const AppendResult created = log->append(single("booking-new", ExpectedVersion::no_stream(), {event("E")}));
  REQUIRE(created.status.is_ok());
  CHECK(created.records.at(0).version == 1);
  CHECK(log->append(single("booking-old", ExpectedVersion::no_stream(), {event("G")})).status.is_conflict());
  CHECK(log->verify().clean);
}

TEST_CASE("AnEvictedStreamIsFoundAtTheVersionAnAppendExpectsAndOnlyThere") {
  // A miss is first checked at the expected version (it exists, the next one does not); every
  // wrong guess must still end in a conflict that names the stream's real version.
  TempFolder folder;
  auto log = open_log_with_stream_a_at_version_3(folder);
  REQUIRE(log->append(single("booking-b", ExpectedVersion::no_stream(), {event("B1")})).status.is_ok());
  for (const uint32_t wrong : {1u, 2u, 4u, 9u, std::numeric_limits<uint32_t>::max()}) {
    CAPTURE(wrong);
    evict_with_other_streams(*log, 4);
    const AppendResult refused = log->append(single("booking-a", ExpectedVersion::exact(wrong), {event("A4")}));
    CHECK(refused.status.is_conflict());
    CHECK_MESSAGE(refused.status.message().find("found version 3") != std::string::npos, refused.status.message());
  }
  evict_with_other_streams(*log, 4);
  const AppendResult never_written = log->append(single("booking-c", ExpectedVersion::exact(1), {event("C1")}));
  CHECK(never_written.status.is_conflict());
  CHECK_MESSAGE(never_written.status.message().find("found no stream") != std::string::npos,
                never_written.status.message());
  evict_with_other_streams(*log, 4);
  const AppendResult first_version = log->append(single("booking-b", ExpectedVersion::exact(1), {event("B2")}));
  REQUIRE(first_version.status.is_ok());
  CHECK(first_version.records.at(0).version == 2);
  evict_with_other_streams(*log, 4);
  const AppendResult next = log->append(single("booking-a", ExpectedVersion::exact(3), {event("A4"), event("A5")}));
  REQUIRE(next.status.is_ok());
  CHECK(next.records.at(1).version == 5);
  CHECK(log->stream_version("booking-a") == 5);
  CHECK(log->verify().clean);
}
