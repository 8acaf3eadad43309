#include "engine/read_only_open.h"

#include <cstdarg>
#include <memory>
#include <utility>

#include <rocksdb/env.h>

namespace tl {
namespace {

// Drops every line of RocksDB's info log.
class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*arguments*/) override {}
};

}  // namespace

rocksdb::Status open_read_only_silently(const std::string& path, rocksdb::DBOptions options,
                                        const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                        std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  options.info_log = std::make_shared<SilentLogger>();
  handles->clear();
  return rocksdb::DB::OpenForReadOnly(options, path, families, handles, db);
}

rocksdb::Status open_read_only_briefly(const std::string& path, rocksdb::DBOptions options,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const std::function<void(rocksdb::DB&)>& use) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened = open_read_only_silently(path, std::move(options), families, &handles, &db);
  if (db == nullptr) return opened;
  if (opened.ok() && use) use(*db);
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return opened;
}

}  // namespace tl
