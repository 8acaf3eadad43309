#pragma once
// Whether a primary may recover past a damaged write-ahead-log record.
//
// RocksDB's point-in-time recovery stops at the first WAL record it cannot read and drops every
// record after it; the open then flushes what it kept and deletes the old WAL files. That is
// right for the torn tail a crash leaves behind (a batch that was never acknowledged, as every
// append is synced before it is answered), and wrong for damage in the middle: acknowledged
// events after it would vanish, the next append would reuse their positions, and the evidence
// would be gone. So a primary opens strictly first (kAbsoluteConsistency); only when that fails
// does this check tell the two apart, with two read-only opens that write nothing to the folder:
// one as point-in-time recovery would read the log, one skipping every damaged record. When the
// skipping one reads writes past the point where the other stopped, the damage is not a tail.
#include <rocksdb/db.h>

#include <string>
#include <vector>

#include "engine/rocksdb_tuning.h"
#include "engine/status.h"

namespace tl {

// ok when `strict_failure` (the strict open's corruption) is a torn tail with nothing readable
// after it, so that point-in-time recovery loses no acknowledged write; corruption otherwise,
// naming what would be lost and what to do (or, when even a read-only open fails, so that the
// damage is not the write-ahead log's alone, RocksDB's own answer).
Status check_wal_damage_is_a_torn_tail(const std::string& path, const RocksTuning& tuning,
                                       const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                       const rocksdb::Status& strict_failure);

}  // namespace tl
