// Opening the log: creation, folders that are not ours, schema_version, the lock, head
// recovery, and read-only secondary instances.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "engine/big_endian.h"
#include "engine/log_keys.h"
#include "engine/log_store.h"
#include "support/log_test_support.h"

using namespace tl;
using namespace tl::logtest;

namespace {

namespace fs = std::filesystem;

Status try_open(const std::string& path, LogOptions options = {}) {
  std::unique_ptr<LogStore> store;
  return LogStore::open(path, options, &store);
}

std::unique_ptr<LogStore> open_secondary(const std::string& path, const std::string& scratch = "") {
  LogOptions options;
  options.read_only_secondary = true;
  options.secondary_path = scratch;
  std::unique_ptr<LogStore> store;
  const Status status = LogStore::open(path, options, &store);
  INFO(status.to_string());
  REQUIRE(status.is_ok());
  return store;
}

// Name -> (size, modification time) of every file under `path`.
std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> listing(const std::string& path) {
  std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> files;
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) files[entry.path().string()] = {entry.file_size(), entry.last_write_time()};
  }
  return files;
}

}  // namespace

TEST_CASE("OpenCreatesAMissingFolderWithOurSchemaVersion") {
  TempFolder folder;
  const std::string path = folder.sub("data");
  { auto log = open_log(path); }
  RawDb raw(path);
  CHECK(raw.get(log_keys::meta_schema_version) == "1");
}

TEST_CASE("OpenWithoutCreateIfMissingReportsNotFound") {
  TempFolder folder;
  LogOptions options;
  options.create_if_missing = false;
  CHECK(try_open(folder.sub("absent"), options).is_not_found());
  CHECK_FALSE(fs::exists(folder.sub("absent")));
}

TEST_CASE("FolderWithOtherFilesIsNotATutorledgerDatabase") {
  TempFolder folder;
  std::ofstream(folder.sub("notes.txt")) << "my notes\n";
  const Status status = try_open(folder.path());
  CHECK(status.code() == Status::Code::invalid_argument);
  CHECK(status.message().find("is not a tutorledger database") != std::string::npos);
  CHECK_FALSE(fs::exists(folder.sub("CURRENT")));  // nothing was created there
  std::ofstream(folder.sub("file")) << "x";
  CHECK(try_open(folder.sub("file")).message().find("not a folder") != std::string::npos);
}

TEST_CASE("RocksDbDatabaseOfSomethingElseIsRefused") {
  TempFolder folder;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, folder.path(), &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), "user:1", "alice").ok());
    delete db;
  }
  const Status status = try_open(folder.path());
  CHECK(status.code() == Status::Code::invalid_argument);
  CHECK(status.message().find("is not a tutorledger database: it has no projections column family") != std::string::npos);
  {
    std::vector<std::string> families;  // refused before anything was added to it
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), folder.path(), &families).ok());
    CHECK(families == std::vector<std::string>{rocksdb::kDefaultColumnFamilyName});
  }
  // The audit CLI opens it as a secondary: the same plain answer, not RocksDB's own.
  LogOptions secondary;
  secondary.read_only_secondary = true;
  const Status as_secondary = try_open(folder.path(), secondary);
  CHECK(as_secondary.code() == Status::Code::invalid_argument);
  CAPTURE(as_secondary.message());
  CHECK(as_secondary.message().find("is not a tutorledger database: it has no projections column family") != std::string::npos);

  TempFolder other;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, other.path(),
                              {rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName, options),
                               rocksdb::ColumnFamilyDescriptor("orders", options)},
                              &handles, &db)
                .ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  CHECK(try_open(other.path()).message().find("unexpected column family \"orders\"") != std::string::npos);
}

TEST_CASE("UnknownSchemaVersionIsRefused") {
  TempFolder folder;
  { auto log = open_log(folder.path()); }
  {
    RawDb raw(folder.path());
    raw.put(log_keys::meta_schema_version, "2");
  }
  const Status status = try_open(folder.path());
  CHECK(status.code() == Status::Code::invalid_argument);
  CHECK(status.message().find("schema_version \"2\"; this build knows only 1") != std::string::npos);
}

TEST_CASE("SecondPrimaryOnTheSameFolderIsBusy") {
  TempFolder folder;
  auto log = open_log(folder.path());
  const Status status = try_open(folder.path());
  INFO(status.to_string());
  CHECK(status.code() == Status::Code::busy);
}

TEST_CASE("PrimaryRefusesAMetadataHeadThatDisagreesWithTheLastEvent") {
  TempFolder folder;
  {
    auto log = open_log(folder.path());
    REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("A"), event("B")})).status.is_ok());
  }
  {
    RawDb raw(folder.path());
    std::string position;
    append_u64_be(position, 1);
    raw.put(log_keys::meta_last_position, position);
  }
  const Status status = try_open(folder.path());
  CHECK(status.is_corruption());
  CHECK(status.message() == "metadata head is position 1 but the last event is position 2");
  // A secondary still opens, so that verify() can name the position.
  const VerifyReport report = open_secondary(folder.path())->verify();
  CHECK(report.first_bad_position == 2);
}

TEST_CASE("SecondarySeesThePrimarysAppendsAfterCatchUpAndCannotWrite") {
  TempFolder folder;
  TempFolder scratch;
  auto primary = open_log(folder.path());
  REQUIRE(primary->append(single("booking-1", ExpectedVersion::any(), {event("A")})).status.is_ok());
  auto secondary = open_secondary(folder.path(), scratch.path());
  CHECK(secondary->head().position == 1);

  REQUIRE(primary->append(single("booking-1", ExpectedVersion::exact(1), {event("B"), event("C")})).status.is_ok());
  CHECK(secondary->head().position == 1);  // not before catch_up
  REQUIRE(secondary->catch_up().is_ok());
  CHECK(secondary->head().position == 3);
  CHECK(secondary->head().hash == primary->head().hash);
  CHECK(secondary->stream_version("booking-1") == 3);
  std::vector<EventRecord> events;
  REQUIRE(secondary->read_stream("booking-1", 1, 10, &events).is_ok());
  CHECK(events.size() == 3);
  CHECK(secondary->verify().clean);

  const AppendResult refused = secondary->append(single("booking-1", ExpectedVersion::any(), {event("D")}));
  CHECK(refused.status.code() == Status::Code::invalid_argument);
  Checkpoint checkpoint;
  CHECK(secondary->write_checkpoint(checkpoint).code() == Status::Code::invalid_argument);
  CHECK(primary->catch_up().code() == Status::Code::invalid_argument);
  REQUIRE(secondary->catch_up().is_ok());
  CHECK(secondary->head().position == 3);
}

TEST_CASE("SecondaryLeavesTheDataFolderUntouched") {
  TempFolder folder;
  const std::string path = folder.sub("data");
  {
    auto log = open_log(path);
    REQUIRE(log->append(single("s", ExpectedVersion::any(), {event("A"), event("B")})).status.is_ok());
    REQUIRE(log->write_checkpoint(Checkpoint{2, sha256("state"), "payload"}).is_ok());
  }
  const auto before = listing(path);
  {
    auto secondary = open_secondary(path);
    std::vector<EventRecord> events;
    REQUIRE(secondary->read_all(1, 10, &events).is_ok());
    CHECK(events.size() == 2);
    CHECK(secondary->verify().clean);
    std::optional<Checkpoint> checkpoint;
    REQUIRE(secondary->read_checkpoint(&checkpoint).is_ok());
    CHECK(checkpoint->payload == "payload");
    REQUIRE(secondary->catch_up().is_ok());
  }
  CHECK(listing(path) == before);
}

TEST_CASE("SecondaryOfAMissingFolderIsNotFound") {
  TempFolder folder;
  LogOptions options;
  options.read_only_secondary = true;
  CHECK(try_open(folder.sub("absent"), options).is_not_found());
  CHECK_FALSE(fs::exists(folder.sub("absent")));
}
