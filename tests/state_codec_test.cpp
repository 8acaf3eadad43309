#include <doctest/doctest.h>

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
  for (const auto& [user, notifications] : h.state.notifications) {
    const auto found = loaded.notifications.find(user);
    REQUIRE(found != loaded.notifications.end());
    REQUIRE(found->second.size() == notifications.size());
    for (size_t i = 0; i < notifications.size(); ++i, ++rendered) {
      CHECK(render_notification(loaded, found->second[i]).text == render_notification(h.state, notifications[i]).text);
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
  other.notifications["t1"].pop_back();
  CHECK_FALSE(state_hash(other) == before);
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
