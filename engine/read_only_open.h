#pragma once
// A brief read-only look at a database folder: opened, handed over, closed again. The info LOG is
// silenced, so nothing at all is written to the folder (a read-only open would otherwise create
// or rotate RocksDB's LOG there).
#include <functional>
#include <string>
#include <vector>

#include <rocksdb/db.h>

namespace tl {

// The open's status; `use` (may be empty) is called only when it opened.
rocksdb::Status open_read_only_briefly(const std::string& path, rocksdb::DBOptions options,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const std::function<void(rocksdb::DB&)>& use = {});

}  // namespace tl
