#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

#include "engine/conflict_key_set.h"

using namespace tl;

TEST_CASE("AKeyIsThereOnceInsertedAndGoneAfterClear") {
  ConflictKeySet keys(8);
  CHECK_FALSE(keys.contains(42));
  keys.insert(42);
  keys.insert(42);  // a second insert of the same key changes nothing
  CHECK(keys.contains(42));
  CHECK(keys.size() == 1);
  CHECK_FALSE(keys.contains(43));
  keys.clear();
  CHECK_FALSE(keys.contains(42));
  CHECK(keys.size() == 0);
}

TEST_CASE("KeysThatShareASlotAreAllFoundAndNoOthers") {
  // Keys differing only above bit 32 land in the same home slot after the multiply's shift
  // only by chance; these are spread over the whole range and include 0 and the maximum.
  constexpr size_t keys_max = 4 * 2048;  // a full batch of the default size
  ConflictKeySet keys(keys_max);
  std::mt19937_64 random(11);
  for (int batch = 0; batch < 50; ++batch) {
    keys.clear();
    std::unordered_set<uint64_t> expected;
    const size_t count = batch % 2 == 0 ? keys_max : random() % keys_max;
    expected.insert(0);
    expected.insert(UINT64_MAX);
    keys.insert(0);
    keys.insert(UINT64_MAX);
    while (expected.size() < count) {
      const uint64_t key = random();
      expected.insert(key);
      keys.insert(key);
    }
    CHECK(keys.size() == expected.size());
    for (uint64_t key : expected) REQUIRE(keys.contains(key));
    for (int probe = 0; probe < 10'000; ++probe) {
      const uint64_t key = random();
      CHECK(keys.contains(key) == expected.contains(key));
    }
  }
}

TEST_CASE("NothingOfAnEarlierBatchIsSeenAfterManyClears") {
  ConflictKeySet keys(4);
  for (uint64_t batch = 0; batch < 100'000; ++batch) {
    keys.clear();
    REQUIRE_FALSE(keys.contains(batch == 0 ? 1 : batch - 1));
    keys.insert(batch);
    REQUIRE(keys.contains(batch));
  }
}
