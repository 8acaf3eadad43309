#include "api/fresh_id.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace tl::api;

namespace {

bool all_from_alphabet(std::string_view text) {
  return text.find_first_not_of(fresh_id_alphabet) == std::string_view::npos;
}

constexpr uint64_t time_ms_max = (uint64_t{1} << 50) - 1;

}  // namespace

TEST_CASE("TheAlphabetIsInAsciiOrderSoThatIdsSortAsTheirTimes") {
  for (size_t i = 1; i < fresh_id_alphabet.size(); ++i) CHECK(fresh_id_alphabet[i - 1] < fresh_id_alphabet[i]);
}

TEST_CASE("ARandomIdIsThePrefixAndTwentyCharactersAndNeverRepeats") {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = random_id("wd_");
    REQUIRE(id.size() == 3 + fresh_id_chars);
    CHECK(id.substr(0, 3) == "wd_");
    CHECK(all_from_alphabet(id.substr(3)));
    CHECK(seen.insert(id).second);
  }
}

TEST_CASE("ATimeOrderedIdSpellsItsMillisecondsMostSignificantFirst") {
  CHECK(time_ordered_id("bk_", 0).substr(0, 13) == "bk_2222222222");
  CHECK(time_ordered_id("bk_", 1).substr(0, 13) == "bk_2222222223");
  CHECK(time_ordered_id("bk_", 31).substr(0, 13) == "bk_222222222z");
  CHECK(time_ordered_id("bk_", 32).substr(0, 13) == "bk_2222222232");
  CHECK(time_ordered_id("bk_", time_ms_max).substr(0, 13) == "bk_zzzzzzzzzz");
  // 2026-11-18T11:06:40Z; the expected text was worked out by hand in Python,
  // base 32 over the alphabet.
  CHECK(time_ordered_id("bk_", 1795000000000).substr(0, 13) == "bk_23obr7grk2");
  const std::string id = time_ordered_id("bk_", 1795000000000);
  REQUIRE(id.size() == 3 + fresh_id_chars);
  CHECK(all_from_alphabet(id.substr(3)));
}

TEST_CASE("IdsMadeLaterSortLaterWhateverTheirRandomTails") {
  std::mt19937_64 random(7);
  std::vector<uint64_t> times = {0, 1, 31, 32, 1023, 1024, 1795000000000, 1795000000001, time_ms_max - 1, time_ms_max};
  for (int i = 0; i < 2'000; ++i) times.push_back(random() & time_ms_max);
  for (int i = 0; i < 2'000; ++i) {
    const uint64_t a = times[random() % times.size()];
    const uint64_t b = times[random() % times.size()];
    if (a == b) continue;
    const std::string id_a = time_ordered_id("bk_", a);
    const std::string id_b = time_ordered_id("bk_", b);
    CHECK((a < b) == (id_a < id_b));
  }
}

TEST_CASE("IdsOfTheSameMillisecondDifferInTheirRandomTails") {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) CHECK(seen.insert(time_ordered_id("bk_", 1795000000000)).second);
}
