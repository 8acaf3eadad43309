#pragma once
// Read-only opens of a database folder that write nothing to it: the info LOG is silenced (a
// read-only open would otherwise create or rotate RocksDB's LOG there).
#include <functional>
#include <string>
#include <vector>

#include <rocksdb/db.h>

namespace tl {

// Opens `path` read-only; on success the caller owns `*db` and `*handles` (cleared first).
rocksdb::Status open_read_only_silently(const std::string& path, rocksdb::DBOptions options,
                                        const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                        std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db);

// A brief look: opened, handed to `use` (may be empty; called only when it opened), closed again.
// Returns the open's status.
rocksdb::Status open_read_only_briefly(const std::string& path, rocksdb::DBOptions options,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const std::function<void(rocksdb::DB&)>& use = {});

}  // namespace tl
