#include "support/log_test_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <doctest/doctest.h>

#include "engine/rocksdb_tuning.h"

namespace tl::logtest {

TempFolder::TempFolder() {
  std::string pattern = "/tmp/tl-logtest-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempFolder::~TempFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

NewEvent event(std::string type, std::string data, std::string actor) {
  NewEvent e;
  e.type = std::move(type);
  e.schema = 1;
  e.at = 1'795'000'000'000;
  e.actor = std::move(actor);
  e.command_id = "cmd-1";
  e.data = std::move(data);
  return e;
}

StreamAppend stream_append(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events) {
  return StreamAppend{std::move(stream), expected, std::move(events)};
}

AppendBatch single(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events) {
  AppendBatch batch;
  batch.streams.push_back(stream_append(std::move(stream), expected, std::move(events)));
  return batch;
}

std::unique_ptr<LogStore> open_log(const std::string& path, LogOptions options) {
  std::unique_ptr<LogStore> store;
  const Status status = LogStore::open(path, options, &store);
  INFO(status.to_string());
  REQUIRE(status.is_ok());
  return store;
}

VerifyReport verify_as_secondary(const std::string& path) {
  LogOptions options;
  options.read_only_secondary = true;
  std::unique_ptr<LogStore> store;
  const Status status = LogStore::open(path, options, &store);
  INFO(status.to_string());
  REQUIRE(status.is_ok());
  return store->verify();
}

std::string file_bytes(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  REQUIRE_MESSAGE(stream.good(), "cannot read ", path);
  return std::string(std::istreambuf_iterator<char>(stream), {});
}

std::string newest_write_ahead_log(const std::string& dir) {
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0 && (newest.empty() || entry.path() > newest)) {
      newest = entry.path();
    }
  }
  return newest.string();
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream stream(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto at = static_cast<std::streamoff>(offset);
  REQUIRE(stream.seekg(at));
  const char byte = static_cast<char>(stream.get());
  REQUIRE(stream.seekp(at));
  stream.put(static_cast<char>(byte ^ 0x01));
  REQUIRE(stream.good());
}

RawDb::RawDb(const std::string& path) {
  const RocksTuning tuning = make_rocksdb_tuning(LogOptions{});
  const rocksdb::Status status = rocksdb::DB::Open(tuning.db, path, column_family_descriptors(tuning), &handles_, &db_);
  INFO(status.ToString());
  REQUIRE(status.ok());
}

RawDb::~RawDb() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
  delete db_;
}

std::string RawDb::get(std::string_view key, bool projections) {
  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), family(projections), key, &value);
  REQUIRE((status.ok() || status.IsNotFound()));
  return value;
}

void RawDb::put(std::string_view key, std::string_view value, bool projections) {
  rocksdb::WriteOptions write;
  write.sync = true;
  REQUIRE(db_->Put(write, family(projections), key, value).ok());
}

void RawDb::flush() {
  REQUIRE(db_->Flush(rocksdb::FlushOptions(), handles_).ok());
}

void RawDb::erase(std::string_view key, bool projections) {
  rocksdb::WriteOptions write;
  write.sync = true;
  REQUIRE(db_->Delete(write, family(projections), key).ok());
}

std::vector<std::pair<std::string, std::string>> RawDb::all(bool projections) {
  std::vector<std::pair<std::string, std::string>> entries;
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, family(projections)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) entries.emplace_back(it->key().ToString(), it->value().ToString());
  REQUIRE(it->status().ok());
  return entries;
}

namespace {

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& file, const std::atomic<bool>& armed)
      : FSWritableFileOwnerWrapper(std::move(file)), armed_(armed) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
    if (armed_) return rocksdb::IOStatus::NoSpace("injected: no space left on device");
    return target()->Append(data, options, debug);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* debug) override {
    if (armed_) return rocksdb::IOStatus::NoSpace("injected: no space left on device");
    return target()->Append(data, options, info, debug);
  }

 private:
  const std::atomic<bool>& armed_;
};

}  // namespace

WalFaultFileSystem::WalFaultFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

rocksdb::IOStatus WalFaultFileSystem::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                      rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, debug);
  if (status.ok() && name.ends_with(".log")) *result = std::make_unique<FaultyWritableFile>(std::move(*result), armed);
  return status;
}

FaultyEnv::FaultyEnv()
    : file_system(std::make_shared<WalFaultFileSystem>()), env(rocksdb::NewCompositeEnv(file_system)) {}

}  // namespace tl::logtest
