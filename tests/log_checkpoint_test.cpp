// Checkpoints in the `projections` column family: chunked, replaced atomically, and a torn or
// stale one is reported, never half-loaded.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <random>
#include <string>

#include "engine/checkpoint_codec.h"
#include "engine/log_store.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

constexpr uint32_t small_chunk_bytes = 1000;

LogOptions small_chunks() {
  LogOptions options;
  options.checkpoint_chunk_bytes = small_chunk_bytes;
  return options;
}

std::string random_payload(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string payload(size, '\0');
  for (char& c : payload) c = static_cast<char>(random());
  return payload;
}

void append_events(LogStore& log, int count, std::string_view note = "a") {
  for (int i = 0; i < count; ++i) {
    REQUIRE(log.append(single("s", ExpectedVersion::any(), {event("E", fmt::format(R"({{"note":"{}"}})", note))})).status.is_ok());
  }
}

Checkpoint checkpoint_at(uint64_t position, std::string payload) {
  Checkpoint checkpoint;
  checkpoint.position = position;
  checkpoint.state_hash = sha256(payload);
  checkpoint.payload = std::move(payload);
  return checkpoint;
}

// Keys of the projections column family that are chunks.
size_t chunk_keys(const std::string& path) {
  RawDb raw(path);
  size_t count = 0;
  for (const auto& [key, value] : raw.all(true)) count += key.starts_with("c") ? 1 : 0;
  return count;
}

Status read_back(const std::string& path, std::optional<Checkpoint>* out) {
  auto log = open_log(path, small_chunks());
  return log->read_checkpoint(out);
}

}  // namespace

TEST_CASE("NoCheckpointReadsAsNothing") {
  TempFolder folder;
  auto log = open_log(folder.path());
  std::optional<Checkpoint> checkpoint;
  CHECK(log->read_checkpoint(&checkpoint).is_ok());
  CHECK_FALSE(checkpoint.has_value());
}

TEST_CASE("CheckpointRoundTripsAcrossChunksAndReopen") {
  TempFolder folder;
  const std::string payload = random_payload(10'500, 1);
  {
    auto log = open_log(folder.path(), small_chunks());
    append_events(*log, 5);
    REQUIRE(log->write_checkpoint(checkpoint_at(4, payload)).is_ok());
  }
  CHECK(chunk_keys(folder.path()) == 11);
  std::optional<Checkpoint> checkpoint;
  REQUIRE(read_back(folder.path(), &checkpoint).is_ok());
  REQUIRE(checkpoint.has_value());
  CHECK(checkpoint->position == 4);
  CHECK(checkpoint->state_hash == sha256(payload));
  CHECK(checkpoint->payload == payload);
}

TEST_CASE("TheCheckpointPositionIsReadFromItsHeaderAlone") {
  TempFolder folder;
  auto log = open_log(folder.path(), small_chunks());
  std::optional<uint64_t> position = 99;
  CHECK(log->read_checkpoint_position(&position).is_ok());
  CHECK_FALSE(position.has_value());  // none yet
  append_events(*log, 5);
  REQUIRE(log->write_checkpoint(checkpoint_at(4, random_payload(10'500, 1))).is_ok());
  CHECK(log->read_checkpoint_position(&position).is_ok());
  CHECK(position == 4);
  REQUIRE(log->write_checkpoint(checkpoint_at(5, random_payload(100, 2))).is_ok());
  CHECK(log->read_checkpoint_position(&position).is_ok());
  CHECK(position == 5);
}

TEST_CASE("CheckpointsOfEmptyAndExactlyOneChunkPayloadsRoundTrip") {
  for (size_t size : {size_t{0}, size_t{small_chunk_bytes}, size_t{small_chunk_bytes + 1}}) {
    CAPTURE(size);
    TempFolder folder;
    auto log = open_log(folder.path(), small_chunks());
    REQUIRE(log->write_checkpoint(checkpoint_at(0, random_payload(size, 2))).is_ok());
    std::optional<Checkpoint> checkpoint;
    REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
    REQUIRE(checkpoint.has_value());
    CHECK(checkpoint->payload == random_payload(size, 2));
  }
}

TEST_CASE("NewCheckpointReplacesTheOldOneAndDropsItsChunks") {
  TempFolder folder;
  {
    auto log = open_log(folder.path(), small_chunks());
    append_events(*log, 3);
    REQUIRE(log->write_checkpoint(checkpoint_at(1, random_payload(5'000, 3))).is_ok());
    REQUIRE(log->write_checkpoint(checkpoint_at(3, random_payload(2'500, 4))).is_ok());
  }
  CHECK(chunk_keys(folder.path()) == 3);
  std::optional<Checkpoint> checkpoint;
  REQUIRE(read_back(folder.path(), &checkpoint).is_ok());
  CHECK(checkpoint->position == 3);
  CHECK(checkpoint->payload == random_payload(2'500, 4));
}

TEST_CASE("CheckpointWriteThatDiedHalfWayLeavesTheOldOneAndIsCleanedUpByTheNext") {
  TempFolder folder;
  {
    auto log = open_log(folder.path(), small_chunks());
    append_events(*log, 2);
    REQUIRE(log->write_checkpoint(checkpoint_at(2, random_payload(3'000, 5))).is_ok());
  }
  {
    // Chunks of generation 2 were written, then the process died before the header switch.
    RawDb raw(folder.path());
    for (uint32_t i = 0; i < 7; ++i) raw.put(checkpoint_chunk_key(2, i), std::string(small_chunk_bytes, 'x'), true);
  }
  std::optional<Checkpoint> checkpoint;
  REQUIRE(read_back(folder.path(), &checkpoint).is_ok());
  CHECK(checkpoint->payload == random_payload(3'000, 5));
  {
    auto log = open_log(folder.path(), small_chunks());
    REQUIRE(log->write_checkpoint(checkpoint_at(2, random_payload(1'500, 6))).is_ok());
  }
  CHECK(chunk_keys(folder.path()) == 2);  // the leftovers of the dead attempt are gone too
  REQUIRE(read_back(folder.path(), &checkpoint).is_ok());
  CHECK(checkpoint->payload == random_payload(1'500, 6));
}

TEST_CASE("TornCheckpointIsReportedAndNotLoaded") {
  struct Damage {
    const char* name;
    const char* problem;
  };
  const Damage damages[] = {
      {"missing middle chunk", "torn checkpoint: chunk 2"},
      {"missing last chunk", "torn checkpoint: 4 of 5 chunks"},
      {"short chunk", "torn checkpoint: chunk 1"},
      {"flipped byte", "payload checksum mismatch"},
      {"malformed header", "checkpoint header is malformed"},
  };
  for (const Damage& damage : damages) {
    CAPTURE(damage.name);
    TempFolder folder;
    {
      auto log = open_log(folder.path(), small_chunks());
      append_events(*log, 1);
      REQUIRE(log->write_checkpoint(checkpoint_at(1, random_payload(4'200, 7))).is_ok());
    }
    {
      RawDb raw(folder.path());
      const std::string_view name = damage.name;
      if (name == "missing middle chunk") raw.erase(checkpoint_chunk_key(1, 2), true);
      if (name == "missing last chunk") raw.erase(checkpoint_chunk_key(1, 4), true);
      if (name == "short chunk") raw.put(checkpoint_chunk_key(1, 1), std::string(10, 'x'), true);
      if (name == "flipped byte") {
        std::string chunk = raw.get(checkpoint_chunk_key(1, 3), true);
        chunk[17] = static_cast<char>(chunk[17] ^ 1);
        raw.put(checkpoint_chunk_key(1, 3), chunk, true);
      }
      if (name == "malformed header") raw.put(checkpoint_header_key, "TLCP", true);
    }
    std::optional<Checkpoint> checkpoint;
    const Status status = read_back(folder.path(), &checkpoint);
    INFO(status.to_string());
    CHECK(status.is_corruption());
    CHECK(status.message().find(damage.problem) != std::string::npos);
    CHECK_FALSE(checkpoint.has_value());
  }
}

TEST_CASE("CheckpointOfAnotherLogIsReportedAsStale") {
  TempFolder source;
  TempFolder shorter;
  TempFolder rewritten;
  {
    auto log = open_log(source.path(), small_chunks());
    append_events(*log, 5, "original");
    REQUIRE(log->write_checkpoint(checkpoint_at(5, random_payload(2'000, 8))).is_ok());
  }
  { append_events(*open_log(shorter.path()), 3, "original"); }
  { append_events(*open_log(rewritten.path()), 5, "rewritten"); }
  std::vector<std::pair<std::string, std::string>> projections;
  {
    RawDb raw(source.path());
    projections = raw.all(true);
  }
  for (const std::string& path : {shorter.path(), rewritten.path()}) {
    {
      RawDb raw(path);
      for (const auto& [key, value] : projections) raw.put(key, value, true);
    }
    std::optional<Checkpoint> checkpoint;
    const Status status = read_back(path, &checkpoint);
    INFO(status.to_string());
    CHECK(status.is_corruption());
    CHECK(status.message().starts_with("stale checkpoint"));
    CHECK_FALSE(checkpoint.has_value());
  }
}

TEST_CASE("CheckpointPastTheHeadIsRefused") {
  TempFolder folder;
  auto log = open_log(folder.path());
  append_events(*log, 2);
  CHECK(log->write_checkpoint(checkpoint_at(3, "x")).code() == Status::Code::invalid_argument);
  std::optional<Checkpoint> checkpoint;
  REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
  CHECK_FALSE(checkpoint.has_value());
}

TEST_CASE("LargeCheckpointRoundTripsInFourMebibyteChunks") {
  TempFolder folder;
  const std::string payload = random_payload((9u << 20) + 12'345, 9);
  {
    auto log = open_log(folder.path());
    append_events(*log, 1);
    REQUIRE(log->write_checkpoint(checkpoint_at(1, payload)).is_ok());
  }
  CHECK(chunk_keys(folder.path()) == 3);
  auto log = open_log(folder.path());  // recovery flushes the memtable: chunks go to blob files
  std::optional<Checkpoint> checkpoint;
  REQUIRE(log->read_checkpoint(&checkpoint).is_ok());
  REQUIRE(checkpoint.has_value());
  CHECK(checkpoint->payload.size() == payload.size());
  CHECK(checkpoint->payload == payload);
}
