#pragma once
// Helpers for the event-log tests: temporary folders, events, a raw RocksDB handle for
// tampering with a closed log, and a file system that fails WAL writes on demand.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "engine/event_record.h"
#include "engine/log_store.h"

namespace tl::logtest {

// A fresh folder under /tmp, removed with everything in it on destruction.
class TempFolder {
 public:
  TempFolder();
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

NewEvent event(std::string type, std::string data = "{}", std::string actor = "system");
StreamAppend stream_append(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events);
AppendBatch single(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events);

// Opens a primary LogStore at `path`; fails the test when it cannot.
std::unique_ptr<LogStore> open_log(const std::string& path, LogOptions options = {});
// Opens `path` as a secondary (what the replay CLI does) and verifies it.
VerifyReport verify_as_secondary(const std::string& path);

// A file's bytes, and one of them changed in place (its lowest bit flipped), as bit rot would.
std::string file_bytes(const std::string& path);
void flip_byte(const std::string& path, uint64_t offset);
// The newest non-empty write-ahead-log file of a log folder (the one its last writes went to);
// empty when there is none.
std::string newest_write_ahead_log(const std::string& dir);

// Plain RocksDB on a closed log folder: both column families, no tutorledger logic.
class RawDb {
 public:
  explicit RawDb(const std::string& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string get(std::string_view key, bool projections = false);  // "" when absent
  void put(std::string_view key, std::string_view value, bool projections = false);
  void erase(std::string_view key, bool projections = false);
  // Writes both column families' memtables to table files (*.sst), as a long-running server would.
  void flush();
  // Every key and value of one column family, in key order.
  std::vector<std::pair<std::string, std::string>> all(bool projections = false);

 private:
  rocksdb::ColumnFamilyHandle* family(bool projections) { return projections ? handles_[1] : handles_[0]; }
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Fails every append to a WAL file (`*.log`) while armed, as a full disk would.
class WalFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  WalFaultFileSystem();
  const char* Name() const override { return "WalFaultFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override;
  std::atomic<bool> armed{false};
};

// An Env over a WalFaultFileSystem, for LogOptions::env.
struct FaultyEnv {
  FaultyEnv();
  std::shared_ptr<WalFaultFileSystem> file_system;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace tl::logtest
