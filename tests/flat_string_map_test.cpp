// FlatStringMap (projections/flat_string_map.h): the state's maps by user id, account and payment
// reference. A wrong slot after an erase would lose a balance or a payment record, so the map is
// checked against std::unordered_map over long random runs with many colliding keys.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "projections/flat_string_map.h"

using tl::FlatStringMap;

namespace {

std::vector<std::pair<std::string, int>> sorted_contents(const FlatStringMap<int>& map) {
  std::vector<std::pair<std::string, int>> out(map.begin(), map.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, int>> sorted_contents(const std::unordered_map<std::string, int>& map) {
  std::vector<std::pair<std::string, int>> out(map.begin(), map.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("FindsWhatWasInsertedAndNothingElse") {
  FlatStringMap<int> map;
  CHECK(map.find("tutor:t1") == map.end());
  CHECK(map.emplace("tutor:t1", 5).second);
  CHECK_FALSE(map.emplace("tutor:t1", 7).second);  // an existing key keeps its value
  map["escrow:bk_1"] += 3;
  map["escrow:bk_1"] += 4;
  CHECK(map.size() == 2);
  CHECK(map.find("tutor:t1")->second == 5);
  CHECK(map.find("escrow:bk_1")->second == 7);
  CHECK(map.contains("escrow:bk_1"));
  CHECK_FALSE(map.contains("escrow:bk_2"));
  CHECK_FALSE(map.contains(""));
}

TEST_CASE("ErasedEntriesAreGoneAndTheirPlaceIsReused") {
  FlatStringMap<int> map;
  for (int i = 0; i < 100; ++i) map.emplace("account-" + std::to_string(i), i);
  for (int i = 0; i < 100; i += 2) map.erase(map.find("account-" + std::to_string(i)));
  CHECK(map.size() == 50);
  for (int i = 0; i < 100; ++i) {
    const auto found = map.find("account-" + std::to_string(i));
    if (i % 2 == 0) {
      CHECK(found == map.end());
    } else {
      REQUIRE(found != map.end());
      CHECK(found->second == i);
    }
  }
  const uint64_t bytes_before = map.memory_bytes();
  for (int i = 0; i < 50; ++i) map.emplace("again-" + std::to_string(i), -i);
  CHECK(map.size() == 100);
  CHECK(map.memory_bytes() == bytes_before);  // the 50 erased places took the 50 new entries
  int visited = 0;
  for (const auto& [key, value] : map) {
    ++visited;
    CHECK(map.find(key)->second == value);
  }
  CHECK(visited == 100);
}

TEST_CASE("ReferencesToEntriesSurviveInsertsAndOtherErases") {
  // evolve holds a Tutor& while it adds other entries, as it could with std::unordered_map.
  FlatStringMap<std::string> map;
  std::string& kept = map["kept"];
  kept = "value";
  const std::string* kept_key = &map.find("kept")->first;
  for (int i = 0; i < 10'000; ++i) map.emplace("other-" + std::to_string(i), "x");
  for (int i = 0; i < 10'000; i += 3) map.erase(map.find("other-" + std::to_string(i)));
  CHECK(&map["kept"] == &kept);
  CHECK(kept == "value");
  CHECK(*kept_key == "kept");
}

TEST_CASE("BehavesLikeUnorderedMapOverRandomInsertsAndErases") {
  // A small key space makes runs of colliding slots long, so erases shift slots across the
  // table's wrap-around and past entries whose home lies before the hole.
  std::mt19937_64 random(20261205);
  FlatStringMap<int> map;
  std::unordered_map<std::string, int> model;
  for (int step = 0; step < 200'000; ++step) {
    const std::string key = "user-" + std::to_string(random() % 3'000);
    switch (random() % 4) {
      case 0:
      case 1: {
        const int value = static_cast<int>(random() % 1'000);
        map[key] += value;
        model[key] += value;
        break;
      }
      case 2: {
        const auto found = map.find(key);
        const bool in_model = model.erase(key) == 1;
        REQUIRE((found != map.end()) == in_model);
        if (found != map.end()) map.erase(found);
        break;
      }
      default: {
        const auto found = map.find(key);
        const auto expected = model.find(key);
        REQUIRE((found != map.end()) == (expected != model.end()));
        if (found != map.end()) REQUIRE(found->second == expected->second);
      }
    }
    REQUIRE(map.size() == model.size());
  }
  CHECK(sorted_contents(map) == sorted_contents(model));
}

TEST_CASE("CopiesAreIndependent") {
  FlatStringMap<int> original;
  for (int i = 0; i < 1'000; ++i) original.emplace(std::to_string(i), i);
  FlatStringMap<int> copy = original;
  copy.erase(copy.find("7"));
  copy["8"] = -8;
  CHECK(original.find("7")->second == 7);
  CHECK(original.find("8")->second == 8);
  CHECK(copy.find("7") == copy.end());
  CHECK(copy.find("8")->second == -8);
  CHECK(copy.size() == original.size() - 1);
}
