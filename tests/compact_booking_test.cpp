// The booking's compact fields (projections/compact_fields.h, state.h): they behave as the wider
// types they replace, derived texts come back as the log said them, and values that do not fit
// the narrow fields are refused, never stored truncated. The id index (projections/id_index.h)
// finds what it was given, and only that.
#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "engine/state_hash.h"
#include "projections/evolve.h"
#include "projections/id_index.h"
#include "projections/state_codec.h"
#include "projections/views.h"
#include "support/domain_harness.h"

using namespace tl;
using namespace tl::test;

namespace {

Event booking_event(const State& state, uint32_t version, EventData data) {
  return Event{state.position + 1, "booking-bk_1", version, example_start, student(), "cmd", std::move(data)};
}

BookingRequested requested_bk_1() {
  return BookingRequested{"bk_1", "s1", "t1", "Algebra", example_start + ms_per_day, 60, etb_amount(35000)};
}

}  // namespace

TEST_CASE("OptionalInt64BehavesAsAnOptional") {
  OptionalInt64 none;
  CHECK_FALSE(none.has_value());
  CHECK(none.value_or(7) == 7);
  CHECK(none.as_optional() == std::nullopt);
  OptionalInt64 zero = int64_t{0};
  CHECK(zero.has_value());
  CHECK(zero == 0);
  CHECK(*zero == 0);
  OptionalInt64 lowest = std::numeric_limits<int64_t>::min() + 1;
  CHECK(lowest.has_value());
  CHECK(none < lowest);  // no value orders first, as std::optional does
  CHECK(lowest < zero);
  CHECK(OptionalInt64(std::optional<int64_t>(5)) == 5);
  CHECK_FALSE(OptionalInt64(std::optional<int64_t>()).has_value());
  CHECK_FALSE(fits_optional_int64(std::numeric_limits<int64_t>::min()));
}

TEST_CASE("CompactTextKeepsItsBytesAndAllocatesNothingWhenEmpty") {
  CompactText empty;
  CHECK(empty.empty());
  CHECK(empty.view().empty());
  const std::string with_nul("a\0b \"quoted\" ünïcode", 22);
  CompactText text(with_nul);
  CHECK(text.size() == with_nul.size());
  CHECK(text == std::string_view(with_nul));
  CompactText copy = text;
  text = std::string_view();
  CHECK(text.empty());
  CHECK(copy == std::string_view(with_nul));
  CompactText moved = std::move(copy);
  CHECK(moved == std::string_view(with_nul));
}

TEST_CASE("DerivedPaymentRefAndChannelRenderAsTheEventsSaidThem") {
  DomainHarness h;
  h.book("bk_1", example_start);
  h.accept_and_pay("bk_1");
  h.advance_to(example_start);
  REQUIRE_FALSE(h.run(student(), StartSession{"bk_1"}).rejected());
  const Booking& booking = *h.state.find_booking("bk_1");
  CHECK(booking.has_payment_ref());
  CHECK(booking.payment_ref() == checkout_tx_ref("bk_1"));
  CHECK(booking.channel() == session_channel("bk_1"));
  const std::string json = views::booking_json(booking);
  CHECK(json.find("\"payment_ref\":\"tx-bk_1\"") != std::string::npos);
  CHECK(json.find("\"channel\":\"tl-bk_1\"") != std::string::npos);
}

TEST_CASE("ANonDerivedChannelOrTxRefFromTheLogIsKeptAndSurvivesADump") {
  State state;
  REQUIRE(evolve(state, booking_event(state, 1, requested_bk_1())).empty());
  REQUIRE(evolve(state, booking_event(state, 2, BookingAccepted{"bk_1"})).empty());
  REQUIRE(evolve(state, booking_event(state, 3, CheckoutOpened{"bk_1", "legacy-ref-9", etb_amount(35000)})).empty());
  REQUIRE(evolve(state, booking_event(state, 4, SessionStarted{"bk_1", "room-42"})).empty());
  const Booking& booking = *state.find_booking("bk_1");
  CHECK(booking.payment_ref() == "legacy-ref-9");
  CHECK(booking.channel() == "room-42");
  State loaded;
  const std::string dump = dump_state(state);
  REQUIRE(load_state(dump, &loaded).empty());
  CHECK(loaded.find_booking("bk_1")->payment_ref() == "legacy-ref-9");
  CHECK(loaded.find_booking("bk_1")->channel() == "room-42");
  CHECK(dump_state(loaded) == dump);
  CHECK(state_hash(loaded) == state_hash(state));
}

TEST_CASE("EvolveRefusesValuesThatDoNotFitTheBookingsNarrowFields") {
  State state;
  BookingRequested too_long = requested_bk_1();
  too_long.duration_minutes = int64_t{1} << 40;
  CHECK_FALSE(evolve(state, booking_event(state, 1, too_long)).empty());
  CHECK(state.bookings.empty());  // refused before anything changed

  REQUIRE(evolve(state, booking_event(state, 1, requested_bk_1())).empty());
  EscrowRefunded sentinel_amount{"bk_1", std::numeric_limits<int64_t>::min(), {}};
  CHECK(evolve(state, booking_event(state, 2, sentinel_amount)).find("out of range") != std::string::npos);
  CHECK(state.position == 1);
  SessionRated too_many_stars{"bk_1", "t1", 256, ""};
  CHECK(evolve(state, booking_event(state, 2, too_many_stars)).find("out of range") != std::string::npos);
  CHECK(state.find_booking("bk_1")->rating_stars == 0);
}

TEST_CASE("AStateDumpWithTheSentinelInAnOptionalFieldIsRefused") {
  constexpr TimeMs held_at = 1234567890123;  // a value whose bytes occur once in the dump
  State state;
  REQUIRE(evolve(state, booking_event(state, 1, requested_bk_1())).empty());
  Event held = booking_event(state, 2, EscrowHeld{"bk_1", etb_amount(35000)});
  held.at = held_at;
  REQUIRE(evolve(state, held).empty());
  std::string dump = dump_state(state);
  auto le64 = [](int64_t value) {
    std::string bytes(8, '\0');
    for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xFF);
    return bytes;
  };
  const std::string present = '\x01' + le64(held_at);  // an optional with a value: flag, then int64
  const size_t at = dump.find(present);
  REQUIRE(at != std::string::npos);
  REQUIRE(dump.find(present, at + 1) == std::string::npos);
  State loaded;
  REQUIRE(load_state(dump, &loaded).empty());
  dump.replace(at + 1, 8, le64(std::numeric_limits<int64_t>::min()));
  State refused;
  CHECK(load_state(dump, &refused).find("out of range") != std::string::npos);
}

TEST_CASE("APackedNotificationKeepsTheLargestPositionAndEveryEventKind") {
  Notification n{notification_position_max, std::variant_size_v<EventData> - 1, time_ms_max, 4000000000u};
  CHECK(static_cast<uint64_t>(n.position) == notification_position_max);
  CHECK(static_cast<size_t>(n.event_kind) == std::variant_size_v<EventData> - 1);
  CHECK(TimeMs{n.at} == time_ms_max);  // by value: the member is not 8-byte aligned
  CHECK(uint32_t{n.subject} == 4000000000u);
}

TEST_CASE("EvolveRefusesAnEventPositionTheNotificationsCannotHold") {
  State state;
  state.position = notification_position_max;
  Event event = booking_event(state, 1, requested_bk_1());
  CHECK(evolve(state, event).find("beyond the limit") != std::string::npos);
  CHECK(state.bookings.empty());
}

// ---- IdIndex: the booking and withdrawal id indexes -------------------------------------------

TEST_CASE("IdIndexFindsEveryIdItWasGivenThroughManyGrowthsAndNothingElse") {
  std::vector<std::string> ids;
  const auto id_of = [&ids](uint32_t index) -> std::string_view { return ids[index]; };
  tl::IdIndex index;
  CHECK_FALSE(index.find("b-0", id_of).has_value());  // empty table
  constexpr uint32_t count = 100'000;
  for (uint32_t i = 0; i < count; ++i) {
    ids.push_back("b-" + std::to_string(i));
    REQUIRE(index.insert(ids.back(), i, id_of));
  }
  CHECK(index.size() == count);
  for (uint32_t i = 0; i < count; ++i) {
    const auto found = index.find("b-" + std::to_string(i), id_of);
    REQUIRE(found.has_value());
    CHECK(*found == i);
  }
  for (uint32_t i = count; i < count + 1000; ++i) CHECK_FALSE(index.find("b-" + std::to_string(i), id_of).has_value());
  CHECK_FALSE(index.find("", id_of).has_value());
  // 8-byte slots at a load factor of at most 3/4: under 22 bytes per id.
  CHECK(index.memory_bytes() <= count * 22);
}

TEST_CASE("IdIndexRefusesAnIdTwiceAndKeepsTheFirstIndex") {
  std::vector<std::string> ids = {"w-1", "w-2", "w-1"};
  const auto id_of = [&ids](uint32_t index) -> std::string_view { return ids[index]; };
  tl::IdIndex index;
  CHECK(index.insert(ids[0], 0, id_of));
  CHECK(index.insert(ids[1], 1, id_of));
  CHECK_FALSE(index.insert(ids[2], 2, id_of));
  CHECK(index.size() == 2);
  CHECK(*index.find("w-1", id_of) == 0);
  index.clear();
  CHECK(index.size() == 0);
  CHECK_FALSE(index.find("w-1", id_of).has_value());
  index.reserve(1000);
  CHECK(index.insert(ids[1], 1, id_of));
  CHECK(*index.find("w-2", id_of) == 1);
}

TEST_CASE("IdIndexEraseLeavesEveryOtherIdFindableAndTheErasedOneGone") {
  // Every other id erased from a table grown through several sizes: the backward shift must keep
  // the rest reachable.
  std::vector<std::string> ids;
  const auto id_of = [&ids](uint32_t index) -> std::string_view { return ids[index]; };
  tl::IdIndex index;
  constexpr uint32_t count = 12'000;  // 16,384 slots at 73% load: long runs
  for (uint32_t i = 0; i < count; ++i) {
    ids.push_back("w-" + std::to_string(i));
    REQUIRE(index.insert(ids.back(), i, id_of));
  }
  for (uint32_t i = 0; i < count; i += 2) index.erase(ids[i], id_of);
  CHECK(index.size() == count / 2);
  for (uint32_t i = 0; i < count; ++i) {
    const auto found = index.find(ids[i], id_of);
    if (i % 2 == 0) {
      CHECK_FALSE(found.has_value());
    } else {
      REQUIRE(found.has_value());
      CHECK(*found == i);
    }
  }
  CHECK(index.insert(ids[0], 0, id_of));  // an erased id can come back
  CHECK(*index.find(ids[0], id_of) == 0);
}

TEST_CASE("IdIndexEraseKeepsAnIdWhoseRunWrapsPastTheTableEnd") {
  // A new table has 16 slots. Ids homed at slots 14, 15, 15 and 0 fill 14, 15, 0 and 1, so the
  // third one's run wraps. Erasing the first must leave the third where its home (15) can still
  // reach it, and move the fourth back to its own home.
  const auto id_homed_at = [](uint32_t home, std::string_view not_this) {
    for (int n = 0;; ++n) {
      std::string id = "k-" + std::to_string(n);
      if ((tl::IdIndex::hash_of(id) & 15) == home && id != not_this) return id;
    }
  };
  const std::string second = id_homed_at(15, "");
  std::vector<std::string> ids = {id_homed_at(14, ""), second, id_homed_at(15, second), id_homed_at(0, "")};
  const auto id_of = [&ids](uint32_t index) -> std::string_view { return ids[index]; };
  tl::IdIndex index;
  for (uint32_t i = 0; i < ids.size(); ++i) REQUIRE(index.insert(ids[i], i, id_of));
  index.erase(ids[0], id_of);
  CHECK_FALSE(index.find(ids[0], id_of).has_value());
  for (uint32_t i = 1; i < ids.size(); ++i) {
    const auto found = index.find(ids[i], id_of);
    REQUIRE_MESSAGE(found.has_value(), ids[i]);
    CHECK(*found == i);
  }
}

TEST_CASE("StateFindsBookingsByIdAfterACopy") {
  tl::State state;
  for (int i = 0; i < 50; ++i) {
    state.bookings.emplace_back().id = "b-" + std::to_string(i);
    REQUIRE(state.index_last_booking());
  }
  const tl::State copy = state;  // the copy's index must point into its own deque
  for (int i = 0; i < 50; ++i) {
    const tl::Booking* booking = copy.find_booking("b-" + std::to_string(i));
    REQUIRE(booking != nullptr);
    CHECK(booking == &copy.bookings[static_cast<size_t>(i)]);
  }
  CHECK(copy.find_booking("b-50") == nullptr);
}
