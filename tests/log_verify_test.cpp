// verify(): the first bad position and a one-line reason for every kind of damage we can make
// with a raw RocksDB handle on a closed log.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "engine/big_endian.h"
#include "engine/log_keys.h"
#include "engine/log_store.h"
#include "engine/record_codec.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

constexpr uint64_t events_in_fixture = 20;

// 20 events over three streams: position p belongs to stream "s-<p % 3>".
void write_fixture(const std::string& path) {
  auto log = open_log(path);
  for (uint64_t p = 1; p <= events_in_fixture; ++p) {
    const AppendResult result =
        log->append(single(fmt::format("s-{}", p % 3), ExpectedVersion::any(), {event("E", fmt::format(R"({{"p":{},"note":"x"}})", p))}));
    REQUIRE(result.status.is_ok());
  }
}

void check_damage_at(const std::string& path, uint64_t position, std::string_view problem_part) {
  const VerifyReport report = verify_as_secondary(path);
  INFO(report.problem);
  CHECK_FALSE(report.clean);
  CHECK(report.first_bad_position == position);
  CHECK(report.problem.find(problem_part) != std::string::npos);
  CHECK(report.problem.find('\n') == std::string::npos);
}

// Rewrites the hash tail of a stored value for the bytes it now holds, as a forger would.
std::string rehash(const std::string& stored, const Digest& prev_hash, uint64_t position, Digest* hash) {
  RecordDecoder decoder;
  *hash = decoder.compute_hash(stored, prev_hash, position);
  return stored.substr(0, stored.size() - stored_hash_tail_bytes) + R"(,"hash":")" + to_hex(*hash) + R"("})";
}

// Flips one bit of the value at `key` in every `stride`-th byte and in its last few, one byte
// at a time (each round replaces the previous damage), and calls `check()` after each. The value
// is put back at the end.
template <class Check>
void for_each_flipped_byte(const std::string& path, const std::string& key, size_t stride, const Check& check) {
  std::string original;
  {
    RawDb raw(path);
    original = raw.get(key);
  }
  REQUIRE(!original.empty());
  for (size_t offset = 0; offset < original.size(); offset += (offset + 8 < original.size() ? stride : 1)) {
    CAPTURE(offset);
    {
      RawDb raw(path);
      std::string damaged = original;
      damaged[offset] = static_cast<char>(damaged[offset] ^ 0x04);
      raw.put(key, damaged);
    }
    check();
  }
  RawDb raw(path);
  raw.put(key, original);
}

std::string u64_be(uint64_t value) {
  std::string out;
  append_u64_be(out, value);
  return out;
}

}  // namespace

TEST_CASE("CleanLogVerifiesAndReportsItsHead") {
  TempFolder folder;
  write_fixture(folder.path());
  auto log = open_log(folder.path());
  const VerifyReport report = log->verify();
  CHECK(report.clean);
  CHECK(report.first_bad_position == 0);
  CHECK(report.problem.empty());
  CHECK(report.events_checked == events_in_fixture);
  CHECK(report.head.position == log->head().position);
  CHECK(report.head.hash == log->head().hash);
}

TEST_CASE("EmptyLogVerifies") {
  TempFolder folder;
  auto log = open_log(folder.path());
  const VerifyReport report = log->verify();
  CHECK(report.clean);
  CHECK(report.events_checked == 0);
}

TEST_CASE("ByteChangedAnywhereInAStoredEventIsCaughtAtItsPosition") {
  TempFolder folder;
  write_fixture(folder.path());
  // Every 11th byte and the last few: field names, punctuation, numbers, strings, data, hashes.
  // (record_codec_test flips every bit position of a record against the codec alone.)
  for_each_flipped_byte(folder.path(), log_keys::event_key(7), 11, [&] {
    const VerifyReport report = verify_as_secondary(folder.path());
    CHECK(report.first_bad_position == 7);
    CHECK(report.events_checked == 6);
    CHECK(report.head.position == 6);
  });
  CHECK(verify_as_secondary(folder.path()).clean);
}

TEST_CASE("ChangedLastEventIsCaughtAndThePrimaryRefusesToOpenOnIt") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    std::string value = raw.get(log_keys::event_key(events_in_fixture));
    value[value.size() - 5] = value[value.size() - 5] == '0' ? '1' : '0';  // inside the hash field
    raw.put(log_keys::event_key(events_in_fixture), value);
  }
  check_damage_at(folder.path(), events_in_fixture, "hash mismatch");
  std::unique_ptr<LogStore> store;
  const Status status = LogStore::open(folder.path(), LogOptions{}, &store);
  CHECK(status.is_corruption());
  CHECK(status.message().find("metadata head") != std::string::npos);
}

TEST_CASE("DeletedEventIsCaughtAsAGap") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.erase(log_keys::event_key(7));
  }
  check_damage_at(folder.path(), 7, "gap: expected position 7, found 8");
}

TEST_CASE("DeletedLastEventIsCaughtAgainstTheMetadataHead") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.erase(log_keys::event_key(events_in_fixture));
  }
  check_damage_at(folder.path(), events_in_fixture, "metadata head is position 20 but the log ends at 19");
}

TEST_CASE("SwappedPairOfEventsIsCaughtAtTheFirst") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    const std::string seventh = raw.get(log_keys::event_key(7));
    const std::string eighth = raw.get(log_keys::event_key(8));
    raw.put(log_keys::event_key(7), eighth);
    raw.put(log_keys::event_key(8), seventh);
  }
  check_damage_at(folder.path(), 7, "key position 7 holds the record of position 8");
}

TEST_CASE("DeletedIndexEntryIsCaughtAtItsEvent") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.erase(log_keys::stream_key("s-0", 3));  // position 9
  }
  check_damage_at(folder.path(), 9, "index entry for s-0@3 is missing");
}

TEST_CASE("IndexEntryPointingAtAnotherEventIsCaughtAtItsEvent") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.put(log_keys::stream_key("s-0", 3), u64_be(4));  // position 9's entry now says 4
  }
  check_damage_at(folder.path(), 9, "index entry s-0@3 points to position 4");
}

TEST_CASE("ExtraIndexEntryIsCaught") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.put(log_keys::stream_key("s-0", 7), u64_be(5));  // s-0 has six versions; 5 holds s-2
  }
  check_damage_at(folder.path(), 5, "index entry s-0@7 points to position 5, which holds another event");
}

TEST_CASE("IndexEntryPastTheEndOfTheLogIsCaught") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.put(log_keys::stream_key("s-0", 7), u64_be(99));
  }
  check_damage_at(folder.path(), events_in_fixture + 1, "past the end of the log");
}

TEST_CASE("MetadataHeadAheadOfTheLogIsCaught") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    raw.put(log_keys::meta_last_position, u64_be(25));
  }
  check_damage_at(folder.path(), events_in_fixture + 1, "metadata head is position 25");
}

TEST_CASE("NonCanonicalRecordWithAConsistentChainIsCaught") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    // A forger re-encodes the last event with a space and rehashes it; the chain still links.
    RawDb raw(folder.path());
    std::string value = raw.get(log_keys::event_key(events_in_fixture));
    value.replace(value.find(R"("type":)"), 7, R"("type": )");
    RecordDecoder decoder;
    EventRecord record;
    REQUIRE(decoder.decode(value, &record).is_ok());
    Digest hash{};
    value = rehash(value, record.prev_hash, events_in_fixture, &hash);
    raw.put(log_keys::event_key(events_in_fixture), value);
    raw.put(log_keys::meta_last_hash, std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  check_damage_at(folder.path(), events_in_fixture, "not canonically encoded");
}

TEST_CASE("DataThatIsNotOneJsonObjectIsCaughtEvenWithAConsistentChain") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    // A writer bug stores `{"p":20},"note":{}` as the data of the last event: it starts with `{`
    // and ends with `}`, so the record's envelope still reads, and the chain is rehashed.
    RawDb raw(folder.path());
    std::string value = raw.get(log_keys::event_key(events_in_fixture));
    value = value.replace(value.find(R"(,"note":"x"})"), 12, R"(},"note":{})");
    const std::optional<Digest> prev_hash = stored_hash_field(raw.get(log_keys::event_key(events_in_fixture - 1)));
    REQUIRE(prev_hash);
    Digest hash{};
    value = rehash(value, *prev_hash, events_in_fixture, &hash);
    raw.put(log_keys::event_key(events_in_fixture), value);
    raw.put(log_keys::meta_last_hash, std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  check_damage_at(folder.path(), events_in_fixture, "data is not valid JSON");
}

TEST_CASE("StreamVersionGapIsCaughtEvenWithAValidChainAndIndex") {
  // A buggy writer skipped version 2 of stream s; everything else about the log is consistent.
  TempFolder folder;
  { auto log = open_log(folder.path()); }
  {
    RawDb raw(folder.path());
    RecordEncoder encoder;
    Digest prev{};
    const uint32_t versions[] = {1, 3};
    for (uint64_t position = 1; position <= 2; ++position) {
      EventRecord record{.position = position, .stream = "s", .version = versions[position - 1], .type = "E",
                         .schema = 1, .at = 0, .actor = "", .command_id = "", .data = "{}", .prev_hash = prev,
                         .hash = {}};
      std::string stored;
      encoder.encode(record, stored);
      raw.put(log_keys::event_key(position), stored);
      raw.put(log_keys::stream_key("s", record.version), u64_be(position));
      prev = record.hash;
    }
    raw.put(log_keys::meta_last_position, u64_be(2));
    raw.put(log_keys::meta_last_hash, std::string(reinterpret_cast<const char*>(prev.data()), prev.size()));
  }
  check_damage_at(folder.path(), 2, "stream s: version 3 follows version 1");
}

TEST_CASE("ProgressIsReportedDuringALongWalk") {
  TempFolder folder;
  auto log = open_log(folder.path());
  std::vector<NewEvent> events(70'000, event("E"));
  REQUIRE(log->append(single("big", ExpectedVersion::any(), std::move(events))).status.is_ok());
  std::vector<uint64_t> reported;
  const VerifyReport report = log->verify([&](uint64_t checked) { reported.push_back(checked); });
  CHECK(report.clean);
  CHECK(report.events_checked == 70'000);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0] == 65'536);
}

TEST_CASE("ScanStopsWithCorruptionAtADamagedPosition") {
  TempFolder folder;
  write_fixture(folder.path());
  {
    RawDb raw(folder.path());
    std::string value = raw.get(log_keys::event_key(11));
    value[value.find(R"("p":11)") + 5] = '2';  // data says p 12 now
    raw.put(log_keys::event_key(11), value);
  }
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> log;
  REQUIRE(LogStore::open(folder.path(), options, &log).is_ok());
  uint64_t last_seen = 0;
  const Status status = log->scan(1, [&](const EventRecord& record) { return last_seen = record.position, true; });
  CHECK(status.is_corruption());
  CHECK(status.message() == "position 11: hash mismatch");
  CHECK(last_seen == 10);
}

namespace {

std::unique_ptr<LogStore> open_secondary(const std::string& path) {
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> log;
  REQUIRE(LogStore::open(path, options, &log).is_ok());
  return log;
}

// What scan() and scan_stored() say about the log at `path`, and the positions each visited.
struct ScanPair {
  Status scanned;
  Status scanned_stored;
  std::vector<uint64_t> positions;
  std::vector<uint64_t> stored_positions;
};

ScanPair scan_both(const std::string& path) {
  auto log = open_secondary(path);
  ScanPair pair;
  pair.scanned = log->scan(1, [&](const EventRecord& record) { return pair.positions.push_back(record.position), true; });
  pair.scanned_stored = log->scan_stored(1, [&](uint64_t position, std::string_view, const Digest&) {
    return pair.stored_positions.push_back(position), true;
  });
  return pair;
}

}  // namespace

TEST_CASE("ScanStoredHandsOverEachValueWithTheHashScanChecked") {
  TempFolder folder;
  write_fixture(folder.path());
  auto log = open_secondary(folder.path());
  std::vector<EventRecord> records;
  REQUIRE(log->scan(1, [&](const EventRecord& record) { return records.push_back(record), true; }).is_ok());
  REQUIRE(records.size() == events_in_fixture);
  RecordDecoder decoder;
  size_t index = 0;
  REQUIRE(log->scan_stored(1, [&](uint64_t position, std::string_view stored, const Digest& hash) {
                CHECK(position == records[index].position);
                CHECK(hash == records[index].hash);
                EventRecord decoded;
                REQUIRE(decoder.decode(stored, &decoded).is_ok());
                CHECK(decoded.data == records[index].data);
                return ++index, true;
              }).is_ok());
  CHECK(index == events_in_fixture);
  // From a later position, and stopping when the visitor says so.
  std::vector<uint64_t> seen;
  REQUIRE(log->scan_stored(5, [&](uint64_t position, std::string_view, const Digest&) {
                seen.push_back(position);
                return seen.size() < 3;
              }).is_ok());
  CHECK(seen == std::vector<uint64_t>{5, 6, 7});
}

TEST_CASE("ScanStoredNamesEveryDamageAsScanDoes") {
  TempFolder folder;
  write_fixture(folder.path());
  const std::string key = log_keys::event_key(7);
  std::string original;
  {
    RawDb raw(folder.path());
    original = raw.get(key);
  }
  // A flipped bit in every 7th byte and the last few: envelope, data, and the hash tail.
  for_each_flipped_byte(folder.path(), key, 7, [&] {
    const ScanPair pair = scan_both(folder.path());
    CHECK(pair.scanned.is_corruption());
    CHECK(pair.scanned_stored.message() == pair.scanned.message());
    CHECK(pair.stored_positions == pair.positions);
  });
  {
    // A record re-encoded with a space and rehashed, the chain relinked: both read on.
    RawDb raw(folder.path());
    std::string spaced = original;
    spaced.replace(spaced.find(R"("type":)"), 7, R"("type": )");
    RecordDecoder decoder;
    EventRecord record;
    REQUIRE(decoder.decode(spaced, &record).is_ok());
    Digest hash{};
    raw.put(key, rehash(spaced, record.prev_hash, 7, &hash));
    const ScanPair pair = scan_both(folder.path());
    CHECK(pair.scanned.is_corruption());  // position 8 no longer links to the rehashed 7
    CHECK(pair.scanned_stored.message() == pair.scanned.message());
    CHECK(pair.stored_positions == pair.positions);
    CHECK(pair.positions.size() == 7);
  }
  {
    RawDb raw(folder.path());
    raw.erase(key);
    const ScanPair pair = scan_both(folder.path());
    CHECK(pair.scanned_stored.message() == pair.scanned.message());
    CHECK(pair.scanned.message().find("gap") != std::string::npos);
    CHECK(pair.stored_positions == pair.positions);
  }
}
