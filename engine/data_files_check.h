#pragma once
// Whether a database's MANIFEST and every data file it lists are present and whole.
//
// A RocksDB secondary instance cannot tell: it may meet files its primary has just deleted, so
// when files are missing it recovers to the newest state whose files all exist. An audit run on
// a folder that lost its newest data file would then report an older, consistent ledger as clean
// and export its figures. A read-only open is strict (missing files, files shorter than the
// MANIFEST says, a MANIFEST that does not parse) and writes nothing to the folder.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/rocksdb_tuning.h"
#include "engine/status.h"

namespace tl {

// A live primary may delete an obsolete file, or start a new MANIFEST, between the check's
// reading of the MANIFEST and its opening of the files: so a failed check is tried again, this
// many times in all, this far apart. Real damage fails every time.
constexpr int data_files_check_attempts = 3;
constexpr int data_files_check_retry_ms = 100;

// Calls `open` (which returns a rocksdb::Status) until it answers a status that `worth_retrying`
// refuses, or data_files_check_attempts times in all, data_files_check_retry_ms apart: the last
// status. For opens that a live primary's writes can fail for a moment.
template <class Open, class Predicate>
rocksdb::Status open_with_retries(Open open, Predicate worth_retrying) {
  rocksdb::Status opened = open();
  for (int attempt = 2; worth_retrying(opened) && attempt <= data_files_check_attempts; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(data_files_check_retry_ms));
    opened = open();
  }
  return opened;
}

// ok, or corruption naming what is missing or damaged (io_error when the folder cannot be read).
Status check_data_files_complete(const std::string& path, const RocksTuning& tuning,
                                 const std::vector<std::string>& families);

}  // namespace tl
