#include "engine/data_files_check.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <rocksdb/db.h>

#include "engine/log_store_impl.h"
#include "engine/silent_logger.h"

namespace tl {
namespace {

Status open_read_only_once(const std::string& path, const rocksdb::DBOptions& db_options,
                           const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &db);
  if (db != nullptr) {
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  return from_rocksdb(opened, fmt::format("the database files of {} are damaged or incomplete", path));
}

}  // namespace

Status check_data_files_complete(const std::string& path, const RocksTuning& tuning,
                                 const std::vector<std::string>& families) {
  rocksdb::DBOptions db_options = tuning.db;
  db_options.info_log = std::make_shared<SilentLogger>();  // the check must not write to the folder
  db_options.max_open_files = -1;  // open every table file: each one must be there and whole
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;  // the families listed, tuned as the log opens them
  for (rocksdb::ColumnFamilyDescriptor& descriptor : column_family_descriptors(tuning)) {
    if (std::find(families.begin(), families.end(), descriptor.name) != families.end()) {
      descriptors.push_back(std::move(descriptor));
    }
  }
  Status checked;
  for (int attempt = 1; attempt <= data_files_check_attempts; ++attempt) {
    checked = open_read_only_once(path, db_options, descriptors);
    if (checked.is_ok()) return checked;
    if (attempt < data_files_check_attempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(data_files_check_retry_ms));
    }
  }
  return checked;
}

}  // namespace tl
