// The bounded cache of stream versions used by append().
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "engine/stream_version_cache.h"

using namespace tl;

TEST_CASE("CacheNeverHoldsMoreThanItsBoundAndKeepsTheMostRecentStreams") {
  StreamVersionCache cache(10);
  for (uint32_t i = 0; i < 100; ++i) {
    cache.put(fmt::format("s-{}", i), i);
    CHECK(cache.size() <= 10);
  }
  CHECK(cache.find("s-99") == 99u);
  CHECK(cache.find("s-95") == 95u);
  CHECK_FALSE(cache.find("s-0").has_value());  // dropped with an old generation
}

TEST_CASE("PutOfAnOldEntryMakesItYoungAgainSoItSurvivesTheNextRotation") {
  StreamVersionCache cache(4);  // generations of 2
  cache.put("a", 1);
  cache.put("b", 1);
  cache.put("c", 1);            // rotation: a, b old; c young
  cache.put("a", 2);            // a young again
  cache.put("d", 1);            // rotation: c, a old; d young ... b dropped
  CHECK(cache.find("a") == 2u);
  CHECK_FALSE(cache.find("b").has_value());
  CHECK(cache.find("d") == 1u);
}

TEST_CASE("FindForUpdateGivesASlotOnlyForYoungEntries") {
  StreamVersionCache cache(4);
  cache.put("a", 1);
  cache.put("b", 1);
  cache.put("c", 1);  // a, b old; c young
  StreamVersionCache::Found young = cache.find_for_update("c");
  REQUIRE(young.young_slot != nullptr);
  *young.young_slot = 7;
  CHECK(cache.find("c") == 7u);
  StreamVersionCache::Found old = cache.find_for_update("a");
  CHECK(old.version == 1u);
  CHECK(old.young_slot == nullptr);
  CHECK_FALSE(cache.find_for_update("zzz").version.has_value());
}
