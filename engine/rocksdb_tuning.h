#pragma once
// RocksDB options for the append-only log (the reasons are in engine/FORMAT.md, "Tuning").
// Shared by LogStore and the append benchmark, so that the raw baseline runs on the same settings.
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "engine/idempotency_expiry.h"
#include "engine/log_store.h"

namespace tl {

constexpr const char* projections_column_family = "projections";

struct RocksTuning {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions log;          // the default column family: e, s, i, m keys
  rocksdb::ColumnFamilyOptions projections;  // checkpoints
  // The horizon of the log family's compaction filter, which drops expired idempotency records
  // (log.compaction_filter_factory shares it).
  std::shared_ptr<IdempotencyExpiry> idempotency_expiry;
};

RocksTuning make_rocksdb_tuning(const LogOptions& options);

// The descriptors of both column families, default first.
std::vector<rocksdb::ColumnFamilyDescriptor> column_family_descriptors(const RocksTuning& tuning);

// True while `db` has a flush or a compaction running, or one that is due (in any column family
// of `families`). Benchmarks wait for this after each timed slice, so that a run pays for the
// storage work its own writes caused and not for a neighbour's.
bool background_work_pending(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families);

}  // namespace tl
