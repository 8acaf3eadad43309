#include "engine/read_only_open.h"

#include <memory>

#include "engine/silent_logger.h"

namespace tl {

rocksdb::Status open_read_only_briefly(const std::string& path, rocksdb::DBOptions options,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const std::function<void(rocksdb::DB&)>& use) {
  options.info_log = std::make_shared<SilentLogger>();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(options, path, families, &handles, &db);
  if (db == nullptr) return opened;
  if (opened.ok() && use) use(*db);
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return opened;
}

}  // namespace tl
