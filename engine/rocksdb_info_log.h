#pragma once
// RocksDB's info log (the LOG file in the data folder), written by us instead of RocksDB.
//
// RocksDB's own file logger aborts the process once a write to the LOG has failed: Debian's
// RocksDB 7.8 is built with assertions, and the next line it logs after an error (on a full disk,
// it logs that very error) trips `sync_without_flush_called_` in WritableFileWriter. A full disk
// must be a 503 that goes away when there is room, not a crash, so this logger drops the lines
// it cannot write and goes on. It keeps RocksDB's line layout (time, thread, text) and at most
// two files: `LOG`, and `LOG.old` once `LOG` passes `info_log_file_bytes_max`.
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/env.h>

namespace tl {

constexpr uint64_t info_log_file_bytes_max = 16ull << 20;

// A logger appending to `folder`/LOG (created when first needed, so the folder may not exist
// yet). Lines below `level` are dropped, as RocksDB's own logger does.
std::shared_ptr<rocksdb::Logger> make_info_log(const std::string& folder,
                                               rocksdb::InfoLogLevel level = rocksdb::InfoLogLevel::INFO_LEVEL,
                                               uint64_t file_bytes_max = info_log_file_bytes_max);

// Lines the logger could not write (a full disk, a missing folder), for tests and diagnostics.
uint64_t info_log_lines_dropped(const rocksdb::Logger& logger);

}  // namespace tl
