#include "engine/data_files_check.h"

#include <algorithm>

#include <fmt/format.h>
#include <rocksdb/db.h>

#include "engine/log_store_impl.h"
#include "engine/read_only_open.h"

namespace tl {

Status check_data_files_complete(const std::string& path, const RocksTuning& tuning,
                                 const std::vector<std::string>& families) {
  rocksdb::DBOptions db_options = tuning.db;
  db_options.max_open_files = -1;  // open every table file: each one must be there and whole
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;  // the families listed, tuned as the log opens them
  for (rocksdb::ColumnFamilyDescriptor& descriptor : column_family_descriptors(tuning)) {
    if (std::find(families.begin(), families.end(), descriptor.name) != families.end()) {
      descriptors.push_back(std::move(descriptor));
    }
  }
  const rocksdb::Status opened =
      open_with_retries([&] { return open_read_only_briefly(path, db_options, descriptors); },
                        [](const rocksdb::Status& status) { return !status.ok(); });
  return from_rocksdb(opened, fmt::format("the database files of {} are damaged or incomplete", path));
}

}  // namespace tl
