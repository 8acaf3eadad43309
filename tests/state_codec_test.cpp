#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "engine/state_hash.h"
#include "projections/invariants.h"
#include "projections/notifications.h"
#include "projections/state_codec.h"
#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

namespace {

DomainHarness busy_ledger() {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.book("bk_2", example_start + ms_per_hour, 100000, student("s2"), "t2");
  h.book("bk_3", example_start, 5000);
  h.accept_and_pay("bk_1");
  h.accept_and_pay("bk_2", tutor("t2"), student("s2"));
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  REQUIRE_FALSE(h.run(tutor(), EndSession{"bk_1", "notes \"quoted\""}).rejected());
  h.advance_by(25 * ms_per_hour);
  REQUIRE_FALSE(h.run(tutor(), RequestWithdrawal{"wd_1", etb_amount(1000), "cbe:1"}).rejected());
  return h;
}

}  // namespace

TEST_CASE("StateDumpRoundTripsToTheSameHash") {
  DomainHarness h = busy_ledger();
  const std::string dump = dump_state(h.state);
  State loaded;
  REQUIRE(load_state(dump, &loaded).empty());
  CHECK(dump_state(loaded) == dump);
  CHECK(state_hash(loaded) == state_hash(h.state));
  CHECK(check_invariants(loaded).empty());
  CHECK(loaded.find_booking("bk_2")->price.amount == 100000);
  CHECK(loaded.find_withdrawal("wd_1") != nullptr);
  // A field the dump left out would round-trip unnoticed above; the notifications' texts read
  // the booking's fields, so a loaded state must render every one of them the same.
  CHECK(loaded.find_booking("bk_1")->scheduled_release_amount == 29750);
  size_t rendered = 0;
  for (const Role role : {Role::student, Role::tutor}) {
    REQUIRE(loaded.notifications_of(role).size() == h.state.notifications_of(role).size());
    for (const auto& [user, notifications] : h.state.notifications_of(role)) {
      const auto found = loaded.notifications_of(role).find(user);
      REQUIRE(found != loaded.notifications_of(role).end());
      REQUIRE(found->second.size() == notifications.size());
      for (size_t i = 0; i < notifications.size(); ++i, ++rendered) {
        CHECK(render_notification(loaded, found->second[i], role).text ==
              render_notification(h.state, notifications[i], role).text);
      }
    }
  }
  CHECK(rendered >= 10);
}

TEST_CASE("StateHashDiffersWhenAnythingDiffers") {
  DomainHarness h = busy_ledger();
  const Digest before = state_hash(h.state);
  State copy = h.state;
  CHECK(state_hash(copy) == before);
  copy.bookings[0].notes = std::string(copy.bookings[0].notes.view()) + "!";
  CHECK_FALSE(state_hash(copy) == before);
  State other = h.state;
  other.tutor_notifications["t1"].pop_back();
  CHECK_FALSE(state_hash(other) == before);
  // The same list under the other role is another state: who was told matters, not only what.
  State moved = h.state;
  moved.student_notifications["t1"] = moved.tutor_notifications["t1"];
  moved.tutor_notifications.erase(moved.tutor_notifications.find("t1"));
  CHECK_FALSE(state_hash(moved) == before);
}

TEST_CASE("DamagedStateDumpsAreRefusedNeverHalfLoaded") {
  const std::string dump = dump_state(busy_ledger().state);
  State out;
  CHECK_FALSE(load_state(dump.substr(0, dump.size() - 1), &out).empty());
  CHECK_FALSE(load_state(dump + "x", &out).empty());
  CHECK_FALSE(load_state("", &out).empty());
  std::string bad_magic = dump;
  bad_magic[0] ^= 1;
  CHECK_FALSE(load_state(bad_magic, &out).empty());
  // Flipping bytes anywhere must never crash and never load garbage silently past the checks.
  for (size_t i = 8; i < dump.size(); i += 7) {
    std::string damaged = dump;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    State maybe;
    (void)load_state(damaged, &maybe);
  }
  CHECK(out.bookings.empty());
}

TEST_CASE("TheStateDumpFuzzSeedsAreInTheCurrentFormat") {
  // Seeds of an older format stop at the version check, and the fuzzer never reaches the parts
  // behind it. TL_UPDATE_GOLDEN=1 writes them again (a busy ledger and an empty state).
  const std::filesystem::path corpus =
      std::filesystem::path(__FILE__).parent_path() / "fuzz" / "corpus" / "state_codec_fuzz";
  const std::vector<std::pair<std::string, std::string>> seeds = {{"journeys", dump_state(busy_ledger().state)},
                                                                  {"empty", dump_state(State{})}};
  const char* update = std::getenv("TL_UPDATE_GOLDEN");
  for (const auto& [name, dump] : seeds) {
    CAPTURE(name);
    if (update != nullptr && std::string_view(update) == "1") {
      std::ofstream(corpus / name, std::ios::binary) << dump;
    }
    std::ifstream in(corpus / name, std::ios::binary);
    const std::string stored{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    State loaded;
    CHECK_MESSAGE(load_state(stored, &loaded).empty(), "run with TL_UPDATE_GOLDEN=1 to write the seeds again");
    // Byte for byte: checkpoints written by an earlier build must still compare equal.
    CHECK_MESSAGE(stored == dump, "run with TL_UPDATE_GOLDEN=1 to write the seeds again");
  }
}

TEST_CASE("TheDumpIsLittleEndianInPiecesOfAtMost64KiB") {
  DomainHarness h = busy_ledger();
  // A text longer than a piece is split across pieces and read back whole.
  const std::string long_notes(200 * 1024, 'n');
  h.state.bookings[1].notes = long_notes;
  const std::string dump = dump_state(h.state);
  std::string joined;
  size_t pieces = 0;
  write_state(h.state, [&](std::string_view piece) {
    CHECK(!piece.empty());
    CHECK(piece.size() <= 64 * 1024);
    joined.append(piece);
    ++pieces;
  });
  CHECK(joined == dump);
  CHECK(pieces >= 4);
  // The magic "TTLS", the format version and the position, each little-endian.
  REQUIRE(dump.size() > 16);
  CHECK(dump.substr(0, 4) == "TTLS");
  CHECK(dump.substr(4, 4) == std::string({static_cast<char>(state_format_version), 0, 0, 0}));
  uint64_t position = 0;
  for (size_t i = 0; i < 8; ++i) position |= uint64_t{static_cast<uint8_t>(dump[8 + i])} << (8 * i);
  CHECK(position == h.state.position);
  State loaded;
  REQUIRE(load_state(dump, &loaded).empty());
  CHECK(loaded.bookings[1].notes.view() == long_notes);
  CHECK(dump_state(loaded) == dump);
}
