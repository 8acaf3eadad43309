// The event log on RocksDB: appends, expected versions, reads, idempotency records, reopen,
// failed writes, the stream-version cache. Verify, checkpoints and secondaries have their own files.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <string>
#include <thread>

#include "engine/big_endian.h"
#include "engine/idempotency_codec.h"
#include "engine/idempotency_expiry.h"
#include "engine/log_keys.h"
#include "engine/log_store.h"
#include "engine/record_codec.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

// Everything in the default column family: the whole observable state of the log.
std::vector<std::pair<std::string, std::string>> raw_contents(const std::string& path) {
  RawDb raw(path);
  return raw.all();
}

size_t event_count(const LogStore& log) {
  size_t count = 0;
  REQUIRE(log.scan_raw(1, [&](uint64_t, std::string_view) { return ++count, true; }).is_ok());
  return count;
}

}  // namespace

TEST_CASE("AppendPlacesGaplessPositionsPerStreamVersionsAndAHashChain") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  batch.streams.push_back(stream_append("booking-1", ExpectedVersion::no_stream(),
                                        {event("BookingRequested", R"({"id":"bk_1"})"), event("BookingAccepted")}));
  batch.streams.push_back(stream_append("tutor-7", ExpectedVersion::any(), {event("TutorNoted")}));
  const AppendResult result = log->append(batch);
  REQUIRE(result.status.is_ok());
  REQUIRE(result.records.size() == 3);
  CHECK(result.records[0].position == 1);
  CHECK(result.records[1].position == 2);
  CHECK(result.records[2].position == 3);
  CHECK(result.records[0].version == 1);
  CHECK(result.records[1].version == 2);
  CHECK(result.records[2].version == 1);
  CHECK(result.records[0].prev_hash == Digest{});
  CHECK(result.records[1].prev_hash == result.records[0].hash);
  CHECK(result.records[2].prev_hash == result.records[1].hash);
  CHECK(log->head().position == 3);
  CHECK(log->head().hash == result.records[2].hash);
  CHECK(log->stream_version("booking-1") == 2);
  CHECK(log->stream_version("tutor-7") == 1);
  CHECK(log->stream_version("booking-2") == 0);

  const AppendResult next = log->append(single("booking-1", ExpectedVersion::exact(2), {event("PaymentCaptured")}));
  REQUIRE(next.status.is_ok());
  CHECK(next.records[0].position == 4);
  CHECK(next.records[0].version == 3);
  CHECK(next.records[0].prev_hash == result.records[2].hash);
}

TEST_CASE("ExpectedVersionsAreCheckedOneCaseAtATime") {
  struct Case {
    const char* name;
    uint32_t existing_events;
    ExpectedVersion expected;
    bool accepted;
  };
  const Case cases[] = {
      {"any on a new stream", 0, ExpectedVersion::any(), true},
      {"any on an existing stream", 2, ExpectedVersion::any(), true},
      {"no_stream on a new stream", 0, ExpectedVersion::no_stream(), true},
      {"no_stream on an existing stream", 2, ExpectedVersion::no_stream(), false},
      {"exact 0 on a new stream", 0, ExpectedVersion::exact(0), true},
      {"exact matching", 2, ExpectedVersion::exact(2), true},
      {"exact behind", 2, ExpectedVersion::exact(1), false},
      {"exact ahead", 2, ExpectedVersion::exact(3), false},
      {"exact on a new stream", 0, ExpectedVersion::exact(1), false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    TempFolder folder;
    auto log = open_log(folder.path());
    if (c.existing_events > 0) {
      REQUIRE(log->append(single("s", ExpectedVersion::any(), std::vector<NewEvent>(c.existing_events, event("E")))).status.is_ok());
    }
    const AppendResult result = log->append(single("s", c.expected, {event("Next")}));
    CHECK(result.status.is_ok() == c.accepted);
    CHECK(result.status.is_conflict() == !c.accepted);
    CHECK(log->stream_version("s") == c.existing_events + (c.accepted ? 1 : 0));
  }
}

TEST_CASE("ConflictAnywhereInABatchWritesNothingAndNamesTheStream") {
  TempFolder folder;
  LogHead head_before;
  {
    auto log = open_log(folder.path());
    REQUIRE(log->append(single("booking-1", ExpectedVersion::any(), {event("A"), event("B")})).status.is_ok());
    REQUIRE(log->append(single("booking-2", ExpectedVersion::any(), {event("A")})).status.is_ok());
    head_before = log->head();
  }
  const auto contents_before = raw_contents(folder.path());
  {
    auto log = open_log(folder.path());
    AppendBatch batch;
    batch.streams.push_back(stream_append("booking-3", ExpectedVersion::no_stream(), {event("A")}));
    batch.streams.push_back(stream_append("booking-1", ExpectedVersion::any(), {event("C")}));
    batch.streams.push_back(stream_append("booking-2", ExpectedVersion::exact(5), {event("B")}));
    IdempotencyRecord answer;
    answer.actor = "student:s1";
    answer.key = "key-1";
    answer.status = 200;
    answer.decided_at = 1;
    batch.idempotency.push_back(answer);
    const AppendResult result = log->append(batch);
    CHECK(result.status.is_conflict());
    CHECK(result.status.message() == "stream booking-2: expected version 5, found version 1");
    CHECK(result.records.empty());
    CHECK(log->head().position == head_before.position);
    CHECK(log->head().hash == head_before.hash);
    CHECK(log->stream_version("booking-1") == 2);
    CHECK(log->stream_version("booking-2") == 1);
    CHECK(log->stream_version("booking-3") == 0);
    CHECK_FALSE(log->find_idempotency("student:s1", "key-1").has_value());
    // The next append continues from the unchanged head.
    const AppendResult next = log->append(single("booking-3", ExpectedVersion::no_stream(), {event("A")}));
    REQUIRE(next.status.is_ok());
    CHECK(next.records[0].position == head_before.position + 1);
    CHECK(next.records[0].prev_hash == head_before.hash);
  }
  // The database held exactly what it held before the refused batch, plus the one accepted later.
  auto contents_after = raw_contents(folder.path());
  CHECK(contents_after.size() == contents_before.size() + 2);  // one `e` key and one `s` key
}

TEST_CASE("ConflictMessagesSayNoStreamWhenTheStreamIsNew") {
  TempFolder folder;
  auto log = open_log(folder.path());
  const AppendResult result = log->append(single("booking-9", ExpectedVersion::exact(3), {event("A")}));
  CHECK(result.status.message() == "stream booking-9: expected version 3, found no stream");
  REQUIRE(log->append(single("booking-9", ExpectedVersion::any(), {event("A")})).status.is_ok());
  CHECK(log->append(single("booking-9", ExpectedVersion::no_stream(), {event("A")})).status.message() ==
        "stream booking-9: expected no stream, found version 1");
}

TEST_CASE("LaterAppendsToTheSameStreamInABatchSeeTheEarlierOnes") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  batch.streams.push_back(stream_append("booking-1", ExpectedVersion::no_stream(), {event("A"), event("B")}));
  batch.streams.push_back(stream_append("tutor-1", ExpectedVersion::no_stream(), {event("T")}));
  batch.streams.push_back(stream_append("booking-1", ExpectedVersion::exact(2), {event("C")}));
  const AppendResult result = log->append(batch);
  REQUIRE(result.status.is_ok());
  CHECK(result.records[3].stream == "booking-1");
  CHECK(result.records[3].version == 3);
  CHECK(log->stream_version("booking-1") == 3);

  AppendBatch stale;
  stale.streams.push_back(stream_append("booking-2", ExpectedVersion::no_stream(), {event("A")}));
  stale.streams.push_back(stream_append("booking-2", ExpectedVersion::no_stream(), {event("B")}));
  const AppendResult refused = log->append(stale);
  CHECK(refused.status.is_conflict());
  CHECK(log->stream_version("booking-2") == 0);
  CHECK(log->head().position == 4);
}

TEST_CASE("PositionsAndVersionsStayGaplessAcrossCloseAndReopen") {
  TempFolder folder;
  LogHead head;
  {
    auto log = open_log(folder.path());
    REQUIRE(log->append(single("booking-1", ExpectedVersion::any(), {event("A"), event("B")})).status.is_ok());
    head = log->head();
  }
  {
    auto log = open_log(folder.path());
    CHECK(log->head().position == head.position);
    CHECK(log->head().hash == head.hash);
    CHECK(log->stream_version("booking-1") == 2);  // from the `s` keys: the cache starts empty
    const AppendResult result = log->append(single("booking-1", ExpectedVersion::exact(2), {event("C")}));
    REQUIRE(result.status.is_ok());
    CHECK(result.records[0].position == 3);
    CHECK(result.records[0].version == 3);
    CHECK(result.records[0].prev_hash == head.hash);
  }
  auto log = open_log(folder.path());
  CHECK(log->head().position == 3);
  CHECK(log->verify().clean);
}

TEST_CASE("ReadStreamStartsAtAVersionAndStopsAtTheLimit") {
  TempFolder folder;
  auto log = open_log(folder.path());
  for (int i = 0; i < 5; ++i) {
    AppendBatch batch;
    batch.streams.push_back(stream_append("booking-1", ExpectedVersion::any(), {event("B", fmt::format(R"({{"i":{}}})", i))}));
    batch.streams.push_back(stream_append("booking-10", ExpectedVersion::any(), {event("X")}));  // a stream whose name extends the first
    REQUIRE(log->append(batch).status.is_ok());
  }
  std::vector<EventRecord> events;
  REQUIRE(log->read_stream("booking-1", 2, 2, &events).is_ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].version == 2);
  CHECK(events[0].data == R"({"i":1})");
  CHECK(events[1].version == 3);
  CHECK(events[1].position == 5);
  REQUIRE(log->read_stream("booking-1", 0, 100, &events).is_ok());
  CHECK(events.size() == 5);
  REQUIRE(log->read_stream("booking-1", 6, 100, &events).is_ok());
  CHECK(events.empty());
  REQUIRE(log->read_stream("booking-2", 1, 100, &events).is_ok());
  CHECK(events.empty());
  CHECK(log->read_stream("booking-1", 1, read_events_max + 1, &events).code() == Status::Code::invalid_argument);
}

TEST_CASE("ReadAllStartsAtAPositionAndStopsAtTheLimit") {
  TempFolder folder;
  auto log = open_log(folder.path());
  for (int i = 0; i < 10; ++i) REQUIRE(log->append(single(fmt::format("s-{}", i % 3), ExpectedVersion::any(), {event("E")})).status.is_ok());
  std::vector<EventRecord> events;
  REQUIRE(log->read_all(4, 3, &events).is_ok());
  REQUIRE(events.size() == 3);
  CHECK(events[0].position == 4);
  CHECK(events[2].position == 6);
  CHECK(events[1].prev_hash == events[0].hash);
  REQUIRE(log->read_all(0, 100, &events).is_ok());
  CHECK(events.size() == 10);
  REQUIRE(log->read_all(11, 100, &events).is_ok());
  CHECK(events.empty());
}

TEST_CASE("ScanVisitsInOrderReusesTheRecordAndStopsWhenTold") {
  TempFolder folder;
  auto log = open_log(folder.path());
  for (int i = 0; i < 20; ++i) REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("E", fmt::format(R"({{"n":{}}})", i))})).status.is_ok());
  std::vector<uint64_t> positions;
  const EventRecord* seen = nullptr;
  bool same_object = true;
  REQUIRE(log->scan(5, [&](const EventRecord& record) {
                if (seen != nullptr && seen != &record) same_object = false;
                seen = &record;
                positions.push_back(record.position);
                CHECK(record.data == fmt::format(R"({{"n":{}}})", record.position - 1));
                return record.position < 12;
              }).is_ok());
  CHECK(same_object);
  REQUIRE(positions.size() == 8);
  CHECK(positions.front() == 5);
  CHECK(positions.back() == 12);

  std::string first_value;
  REQUIRE(log->scan_raw(1, [&](uint64_t position, std::string_view value) {
                CHECK(position == 1);
                first_value = value;
                return false;
              }).is_ok());
  CHECK(first_value.starts_with(R"({"position":1,"stream":"s")"));
}

TEST_CASE("DataThatIsNotAJsonObjectIsRefusedAndNothingIsWritten") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  batch.streams.push_back(stream_append("good", ExpectedVersion::any(), {event("A")}));
  batch.streams.push_back(stream_append("bad", ExpectedVersion::any(), {event("B", "[1,2]")}));
  const AppendResult result = log->append(batch);
  CHECK(result.status.code() == Status::Code::invalid_argument);
  CHECK(result.status.message().find("stream bad") != std::string::npos);
  CHECK(log->head().position == 0);
  CHECK(event_count(*log) == 0);
  CHECK(log->append(single("x", ExpectedVersion::any(), {event("B", "{\"a\":")})).status.code() == Status::Code::invalid_argument);
  CHECK(log->append(single("x", ExpectedVersion::any(), {event("B", "")})).status.code() == Status::Code::invalid_argument);
}

TEST_CASE("StreamNamesMustBeNonEmptyUtf8WithoutNulAndFieldsWithinLimits") {
  TempFolder folder;
  auto log = open_log(folder.path());
  CHECK(log->append(single(std::string("a\0b", 3), ExpectedVersion::any(), {event("A")})).status.code() == Status::Code::invalid_argument);
  CHECK(log->append(single("", ExpectedVersion::any(), {event("A")})).status.code() == Status::Code::invalid_argument);
  CHECK(log->append(single("s", ExpectedVersion::any(), {event("")})).status.code() == Status::Code::invalid_argument);
  CHECK(log->append(single(std::string(event_text_bytes_max + 1, 's'), ExpectedVersion::any(), {event("A")})).status.code() ==
        Status::Code::invalid_argument);
  CHECK(log->append(single("booking-\xff", ExpectedVersion::any(), {event("A")})).status.message() == "stream is not valid UTF-8");
  CHECK(log->append(single("s", ExpectedVersion::any(), {event("A", "{}", "actor-\xc3")})).status.message() == "actor is not valid UTF-8");
  CHECK(log->head().position == 0);
}

TEST_CASE("BatchOfTenThousandEventsIsOneAppend") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  for (int s = 0; s < 100; ++s) {
    std::vector<NewEvent> events;
    for (int e = 0; e < 100; ++e) events.push_back(event("E", fmt::format(R"({{"s":{},"e":{}}})", s, e)));
    batch.streams.push_back(stream_append(fmt::format("booking-{}", s), ExpectedVersion::no_stream(), std::move(events)));
  }
  const AppendResult result = log->append(batch);
  REQUIRE(result.status.is_ok());
  CHECK(result.records.size() == 10'000);
  CHECK(result.records.back().position == 10'000);
  CHECK(log->head().position == 10'000);
  CHECK(log->stream_version("booking-42") == 100);
  CHECK(event_count(*log) == 10'000);
  const VerifyReport report = log->verify();
  CHECK(report.clean);
  CHECK(report.events_checked == 10'000);
}

TEST_CASE("IdempotencyRecordsRoundTripAndAreWrittenWithTheEvents") {
  TempFolder folder;
  {
    auto log = open_log(folder.path());
    AppendBatch batch = single("booking-1", ExpectedVersion::no_stream(), {event("BookingRequested")});
    IdempotencyRecord answer;
    answer.actor = "student:s1";
    answer.key = "req-\x01\"weird\"";
    answer.request_hash = sha256("POST /api/bookings");
    answer.status = 201;
    answer.body = R"({"id":"bk_1"})";
    answer.position = 1;
    answer.decided_at = 1'795'000'000'000;
    batch.idempotency.push_back(answer);
    REQUIRE(log->append(batch).status.is_ok());
    // Idempotency records alone (a decided request that appended nothing, e.g. a 409).
    AppendBatch refusal;
    answer.key = "req-2";
    answer.status = 409;
    answer.body = R"({"error":{"code":"invalid_transition"}})";
    refusal.idempotency.push_back(answer);
    REQUIRE(log->append(refusal).status.is_ok());
    CHECK(log->head().position == 1);
  }
  auto log = open_log(folder.path());
  const std::optional<IdempotencyRecord> first = log->find_idempotency("student:s1", "req-\x01\"weird\"");
  REQUIRE(first.has_value());
  CHECK(first->actor == "student:s1");
  CHECK(first->status == 201);
  CHECK(first->body == R"({"id":"bk_1"})");
  CHECK(first->position == 1);
  CHECK(first->request_hash == sha256("POST /api/bookings"));
  const std::optional<IdempotencyRecord> second = log->find_idempotency("student:s1", "req-2");
  REQUIRE(second.has_value());
  CHECK(second->status == 409);
  CHECK_FALSE(log->find_idempotency("student:s2", "req-2").has_value());  // keys are per actor
  CHECK_FALSE(log->find_idempotency("student:s1", "req-3").has_value());
}

TEST_CASE("ExpiredIdempotencyRecordsAreNotFoundAndTheHorizonOnlyMovesForward") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  for (TimeMs decided_at : {1'000, 2'000}) {
    IdempotencyRecord answer;
    answer.actor = "student:s1";
    answer.key = fmt::format("at-{}", decided_at);
    answer.status = 200;
    answer.decided_at = decided_at;
    batch.idempotency.push_back(answer);
  }
  REQUIRE(log->append(batch).status.is_ok());
  CHECK(log->find_idempotency("student:s1", "at-1000").has_value());  // nothing expired at first
  log->expire_idempotency_through(999);
  CHECK(log->find_idempotency("student:s1", "at-1000").has_value());
  log->expire_idempotency_through(1'000);  // "at or before"
  CHECK_FALSE(log->find_idempotency("student:s1", "at-1000").has_value());
  CHECK(log->find_idempotency("student:s1", "at-2000").has_value());
  log->expire_idempotency_through(0);  // a clock stepping back brings nothing back
  CHECK_FALSE(log->find_idempotency("student:s1", "at-1000").has_value());

  batch.idempotency.front().decided_at.reset();
  CHECK(log->append(batch).status.code() == Status::Code::invalid_argument);  // a record needs its time
}

TEST_CASE("TheExpiryFilterRemovesOnlyExpiredIdempotencyValues") {
  auto expiry = std::make_shared<IdempotencyExpiry>();
  const IdempotencyExpiryFilter filter(expiry);
  IdempotencyRecord record;
  record.status = 200;
  record.body = "{}";
  record.decided_at = 5'000;
  const std::string value = encode_idempotency_value(record);
  const std::string idempotency_key = log_keys::idempotency_key("student:s1", "k");
  using Decision = rocksdb::CompactionFilter::Decision;
  using ValueType = rocksdb::CompactionFilter::ValueType;
  const auto decide = [&](std::string_view key, std::string_view stored, ValueType type = ValueType::kValue) {
    std::string new_value;
    std::string skip_until;
    return filter.FilterV2(1, rocksdb::Slice(key.data(), key.size()), type, rocksdb::Slice(stored.data(), stored.size()),
                           &new_value, &skip_until);
  };
  CHECK(decide(idempotency_key, value) == Decision::kKeep);  // nothing expired yet
  expiry->expire_through(4'999);
  CHECK(decide(idempotency_key, value) == Decision::kKeep);
  expiry->expire_through(5'000);
  CHECK(decide(idempotency_key, value) == Decision::kRemove);
  CHECK(decide(idempotency_key, value, ValueType::kMergeOperand) == Decision::kKeep);
  std::string format_one = value.substr(0, idempotency_header_bytes_without_time) + "{}";
  format_one[0] = '\x01';
  CHECK(decide(idempotency_key, format_one) == Decision::kKeep);  // no time: kept
  // Events, the index and the metadata share the column family: whatever their values hold,
  // they stay, also a value that would read as an expired record.
  CHECK(decide(log_keys::event_key(1), value) == Decision::kKeep);
  CHECK(decide(log_keys::stream_key("booking-1", 1), value) == Decision::kKeep);
  CHECK(decide(log_keys::meta_last_position, value) == Decision::kKeep);
  CHECK(decide("", value) == Decision::kKeep);
}

TEST_CASE("CompactingTheIdempotencyRecordsIsRefusedOnASecondary") {
  TempFolder folder;
  { auto log = open_log(folder.path()); }
  LogOptions options;
  options.read_only_secondary = true;
  auto secondary = open_log(folder.path(), options);
  CHECK(secondary->compact_idempotency_records().code() == Status::Code::invalid_argument);
}

TEST_CASE("IdempotencyRecordWithANulInTheActorIsRefused") {
  TempFolder folder;
  auto log = open_log(folder.path());
  AppendBatch batch;
  IdempotencyRecord answer;
  answer.actor = std::string("a\0b", 3);
  answer.key = "k";
  answer.decided_at = 1;
  batch.idempotency.push_back(answer);
  CHECK(log->append(batch).status.code() == Status::Code::invalid_argument);
}

TEST_CASE("FailedWriteLeavesHeadVersionsAndTheDatabaseAsTheyWere") {
  TempFolder folder;
  FaultyEnv faulty;
  LogOptions options;
  options.env = faulty.env.get();
  LogHead head_before;
  {
    auto log = open_log(folder.path(), options);
    REQUIRE(log->append(single("booking-1", ExpectedVersion::any(), {event("A")})).status.is_ok());
    head_before = log->head();
    faulty.file_system->armed = true;  // the disk is full from now on
    AppendBatch batch = single("booking-1", ExpectedVersion::exact(1), {event("B"), event("C")});
    batch.idempotency.push_back(
        IdempotencyRecord{.actor = "student:s1", .key = "k", .request_hash = {}, .status = 0, .body = "", .position = 0,
                          .decided_at = 1});
    const AppendResult result = log->append(batch);
    CHECK(result.status.is_io_error());
    CHECK(result.records.empty());
    CHECK(log->head().position == head_before.position);
    CHECK(log->head().hash == head_before.hash);
    CHECK(log->stream_version("booking-1") == 1);
    faulty.file_system->armed = false;
  }
  auto log = open_log(folder.path());
  CHECK(log->head().position == head_before.position);
  CHECK(log->head().hash == head_before.hash);
  CHECK(log->stream_version("booking-1") == 1);
  CHECK_FALSE(log->find_idempotency("student:s1", "k").has_value());
  CHECK(log->verify().clean);
  REQUIRE(log->append(single("booking-1", ExpectedVersion::exact(1), {event("B")})).status.is_ok());
  CHECK(log->head().position == 2);
}

TEST_CASE("StreamVersionCacheStaysWithinItsBoundAndMissesReadTheIndex") {
  TempFolder folder;
  LogOptions options;
  options.stream_cache_entries_max = 8;
  auto log = open_log(folder.path(), options);
  for (int round = 0; round < 3; ++round) {
    for (int s = 0; s < 50; ++s) {
      const AppendResult result = log->append(single(fmt::format("booking-{}", s), ExpectedVersion::exact(round), {event("E")}));
      REQUIRE(result.status.is_ok());
      CHECK(log->stats().stream_cache_entries <= 8);
    }
  }
  const LogStats stats = log->stats();
  CHECK(stats.stream_cache_entries_max == 8);
  CHECK(stats.stream_cache_misses >= 150);  // 50 streams cycling through 8 entries: every look-up misses
  for (int s = 0; s < 50; ++s) CHECK(log->stream_version(fmt::format("booking-{}", s)) == 3);
  CHECK(log->verify().clean);
}

TEST_CASE("ReadersOnOtherThreadsSeeAConsistentPrefixWhileTheWriterAppends") {
  TempFolder folder;
  auto log = open_log(folder.path());
  std::atomic<bool> done{false};
  std::atomic<int> problems{0};
  std::thread reader([&] {
    while (!done) {
      // Read in this order, each later read must show at least what the earlier one implied.
      const uint32_t version = log->stream_version("booking-1");
      const LogHead head = log->head();
      std::vector<EventRecord> events;
      if (!log->read_all(1, 1000, &events).is_ok() || events.size() < head.position || events.size() < 2 * size_t{version}) {
        ++problems;
      }
      for (size_t i = 0; i < events.size(); ++i) {
        if (events[i].position != i + 1) ++problems;
      }
    }
  });
  for (uint32_t i = 0; i < 200; ++i) {
    AppendBatch batch;
    batch.streams.push_back(stream_append("booking-1", ExpectedVersion::exact(i), {event("A")}));
    batch.streams.push_back(stream_append("booking-2", ExpectedVersion::exact(i), {event("B")}));
    REQUIRE(log->append(batch).status.is_ok());
  }
  done = true;
  reader.join();
  CHECK(problems == 0);
  CHECK(log->head().position == 400);
}

TEST_CASE("AppendOnASyncFreeLogStillWritesEverythingAtomically") {
  TempFolder folder;
  LogOptions options;
  options.sync = false;
  {
    auto log = open_log(folder.path(), options);
    REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("A"), event("B")})).status.is_ok());
  }
  auto log = open_log(folder.path());
  CHECK(log->head().position == 2);
}

TEST_CASE("StreamVersionsOfStreamsWhoseNamesPrefixEachOtherStayApart") {
  TempFolder folder;
  const std::string names[] = {"a", "ab", std::string("a\x01", 2), "a\xc3\xa9", "b"};
  {
    auto log = open_log(folder.path());
    uint32_t count = 1;
    for (const std::string& name : names) {
      REQUIRE(log->append(single(name, ExpectedVersion::no_stream(), std::vector<NewEvent>(count++, event("E")))).status.is_ok());
    }
  }
  // Reopened: the cache is empty, the memtable was flushed, so every answer comes from the
  // prefix-filtered reverse seek over SST files.
  auto log = open_log(folder.path());
  uint32_t expected = 1;
  for (const std::string& name : names) CHECK(log->stream_version(name) == expected++);
  CHECK(log->stream_version("c") == 0);
  CHECK(log->stream_version("a\x02") == 0);
  CHECK(log->append(single("ab", ExpectedVersion::exact(2), {event("E")})).status.is_ok());
  CHECK(log->append(single("a", ExpectedVersion::exact(1), {event("E")})).status.is_ok());
  CHECK(log->append(single("new", ExpectedVersion::no_stream(), {event("E")})).status.is_ok());
  const VerifyReport report = log->verify();
  INFO(report.problem);
  CHECK(report.clean);
}

TEST_CASE("AwkwardTextRoundTripsThroughTheStoreAndVerifies") {
  TempFolder folder;
  const std::string stream = "booking-\"q\"\\\x01\xe1\x8a\xa0";
  NewEvent awkward = event("Type\twith\nbreaks", R"({"note":"caf\u00e9 \"quoted\" \\ back","emoji":"😀"})", "tutor:\xe1\x8a\xa0\xe1\x88\x9b");
  awkward.command_id = "cmd\x7f\x1f";
  {
    auto log = open_log(folder.path());
    REQUIRE(log->append(single(stream, ExpectedVersion::no_stream(), {awkward})).status.is_ok());
  }
  auto log = open_log(folder.path());
  std::vector<EventRecord> events;
  REQUIRE(log->read_stream(stream, 1, 10, &events).is_ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].stream == stream);
  CHECK(events[0].type == awkward.type);
  CHECK(events[0].actor == awkward.actor);
  CHECK(events[0].command_id == awkward.command_id);
  CHECK(events[0].data == awkward.data);
  CHECK(log->verify().clean);
}
