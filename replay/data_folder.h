#pragma once
// Opening a data folder for the audit commands: always as a RocksDB secondary instance, so a
// server running on the same folder is never disturbed and nothing is written to the folder.
#include <memory>
#include <optional>
#include <string>

#include "engine/log_store.h"
#include "replay/console.h"

namespace tl::replay {

// The block cache of a read-only audit run: scans bypass it, point reads are few.
constexpr uint64_t audit_block_cache_bytes = 8ull << 20;

// What an audit command does with a folder whose write-ahead log holds a record that fails its
// checksum: every command refuses it, except `replay verify`, which reads on past the damaged
// records to name the first position they took with them (LogStore::storage_damage()).
enum class DamagedWal { refuse, skip };

Status open_data_folder(const std::string& data_dir, std::unique_ptr<LogStore>* out,
                        DamagedWal damaged_wal = DamagedWal::refuse);

// Opens `data_dir` or says on console.err why it cannot, and which exit code that deserves: a
// missing folder or one that is not a tutorledger database is a usage error (2), anything else
// (I/O, a database RocksDB cannot read) a failure (1).
// `failure`, when given, receives the status of a failed open.
bool open_or_report(const std::string& data_dir, std::string_view command, Console& console,
                    std::unique_ptr<LogStore>* out, int* exit_code, Status* failure = nullptr,
                    DamagedWal damaged_wal = DamagedWal::refuse);

// The moment `--at` means: the one given, else the later of `now` and the last event's time. On
// a live ledger that is now; on one run with a test clock (whose events are ahead of the wall
// clock) it still takes in every event, rather than hiding those not yet due by the wall clock.
TimeMs at_or_latest(const LogStore& log, std::optional<TimeMs> at, TimeMs now);

}  // namespace tl::replay
