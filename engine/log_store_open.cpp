// Opening and closing the log: folder checks, schema_version, head recovery, secondary mode.
#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "engine/big_endian.h"
#include "engine/data_files_check.h"
#include "engine/leftovers.h"
#include "engine/log_keys.h"
#include "engine/log_store_impl.h"
#include "engine/read_only_open.h"
#include "engine/rocksdb_info_log.h"
#include "engine/wal_damage_check.h"

namespace tl {
namespace {

namespace fs = std::filesystem;

constexpr size_t readahead_bytes = 2 << 20;

Status not_tutorledger(const std::string& path, std::string_view why) {
  return Status::invalid_argument(fmt::format("{} is not a tutorledger database: {}", path, why));
}

// Refuses folders that are something else before RocksDB would create files in them.
Status check_folder(const std::string& path, const LogOptions& options, const RocksTuning& tuning) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status)) {
    if (!options.create_if_missing || options.read_only_secondary) return Status::not_found(fmt::format("no database at {}", path));
    return Status::ok();
  }
  if (!fs::is_directory(status)) return not_tutorledger(path, "not a folder");
  if (!fs::exists(fs::path(path) / "CURRENT")) {
    if (fs::is_empty(path, error) && !options.read_only_secondary) return Status::ok();
    return not_tutorledger(path, "the folder holds no RocksDB database");
  }
  std::vector<std::string> families;
  const rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(tuning.db, path, &families);
  if (!listed.ok()) return from_rocksdb(listed, "listing column families");
  for (const std::string& family : families) {
    if (family != rocksdb::kDefaultColumnFamilyName && family != projections_column_family) {
      return not_tutorledger(path, fmt::format("unexpected column family \"{}\"", family));
    }
  }
  // Every tutorledger database has it from its first open. Without it this is someone else's
  // database: a primary must not add the family to it (and a secondary could not).
  const bool has_projections = std::find(families.begin(), families.end(), projections_column_family) != families.end();
  if (!has_projections) {
    // A damaged MANIFEST can list just the default family: that is a damaged ledger, not a
    // foreign database, and deserves to be called so.
    if (Status complete = check_data_files_complete(path, tuning, families); !complete.is_ok()) return complete;
    return not_tutorledger(path, "it has no projections column family");
  }
  return Status::ok();
}

Status make_scratch_folder(std::string* out) {
  std::error_code error;
  const fs::path folder = fs::temp_directory_path(error);  // TMPDIR, else /tmp
  if (error) {
    const char* tmpdir = std::getenv("TMPDIR");
    return Status::io_error(fmt::format("cannot make a scratch folder for the secondary instance: TMPDIR ({}) is not a folder: {}",
                                        tmpdir != nullptr ? tmpdir : "unset", error.message()));
  }
  std::string pattern = (folder / "tutorledger-secondary-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::io_error(fmt::format("cannot make a scratch folder for the secondary instance in {}: {}", folder.string(),
                                        std::strerror(errno)));
  }
  *out = pattern;
  return Status::ok();
}

// The database holds no key at all in the default column family.
Status is_empty(const LogStore::Impl& impl, bool* empty) {
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(point_read_options(), impl.log_family));
  it->SeekToFirst();
  *empty = !it->Valid();
  return from_rocksdb(it->status(), "reading the first key");
}

// schema_version must be ours; a new, empty database gets it (primary only).
Status check_schema(LogStore::Impl& impl) {
  std::string value;
  const rocksdb::Status got = impl.db->Get(point_read_options(), impl.log_family, log_keys::meta_schema_version, &value);
  if (got.IsNotFound()) {
    bool empty = false;
    if (Status status = is_empty(impl, &empty); !status.is_ok()) return status;
    if (!empty) return not_tutorledger(impl.path, "keys but no schema_version");
    if (impl.secondary()) return not_tutorledger(impl.path, "no schema_version (an empty database)");
    rocksdb::WriteOptions write;
    write.sync = true;
    return from_rocksdb(impl.db->Put(write, impl.log_family, log_keys::meta_schema_version,
                                     fmt::format("{}", log_schema_version)),
                        "writing schema_version");
  }
  if (!got.ok()) return from_rocksdb(got, "reading schema_version");
  if (value != fmt::format("{}", log_schema_version)) {
    return Status::invalid_argument(fmt::format("{} has schema_version \"{}\"; this build knows only {}", impl.path,
                                                value.substr(0, 32), log_schema_version));
  }
  return Status::ok();
}

// The metadata head must describe the last `e` record (both are written in one WriteBatch).
Status recover_head(LogStore::Impl& impl) {
  LogHead from_metadata;
  if (Status status = impl.load_metadata_head(&from_metadata); !status.is_ok()) return status;
  LogHead from_log;
  if (Status status = impl.load_last_event(&from_log); !status.is_ok()) return status;
  const bool agree = from_metadata.position == from_log.position && from_metadata.hash == from_log.hash;
  // A secondary only reads: it opens anyway so that verify() can name the damaged position.
  if (!agree && !impl.secondary()) {
    return Status::corruption(fmt::format("metadata head is position {} but the last event is position {}{}",
                                          from_metadata.position, from_log.position,
                                          from_metadata.position == from_log.position ? " with another hash" : ""));
  }
  std::lock_guard lock(impl.state_mutex);
  impl.committed_head = from_metadata;
  return Status::ok();
}

// Read-only, nothing written to the folder, and the write-ahead log read in `mode`:
// kSkipAnyCorruptedRecords leaves the damaged records (with the rest of their 32 KiB blocks) out
// and reads on; kPointInTimeRecovery stops at the first of them.
rocksdb::Status open_past_damaged_wal_records(const LogStore::Impl& impl, rocksdb::WALRecoveryMode mode,
                                              const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                                              std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  rocksdb::DBOptions options = impl.tuning.db;
  options.wal_recovery_mode = mode;
  return open_read_only_silently(impl.path, options, families, handles, db);
}

Status open_database(LogStore::Impl& impl) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const auto families = column_family_descriptors(impl.tuning);
  rocksdb::Status opened;
  if (impl.secondary()) {
    std::string scratch = impl.options.secondary_path;
    if (scratch.empty()) {
      if (Status status = make_scratch_folder(&scratch); !status.is_ok()) return status;
      impl.owned_secondary_path = scratch;
      leftovers::add(scratch, leftovers::Kind::folder);  // removed on an interrupt too
    }
    impl.tuning.db.info_log = make_info_log(scratch);  // a secondary's info log goes to its scratch folder
    // A live primary may be writing the WAL's last record as it is read: tried again, as the
    // data-files check is, before a checksum failure counts as damage.
    opened = open_with_retries(
        [&] {
          handles.clear();
          return rocksdb::DB::OpenAsSecondary(impl.tuning.db, impl.path, scratch, families, &handles, &db);
        },
        [](const rocksdb::Status& status) { return status.IsCorruption(); });
    if (opened.IsCorruption() && impl.options.skip_damaged_wal_records) {
      // A secondary refuses a write-ahead-log record that fails its checksum in every recovery
      // mode; a read-only open can skip it, so that verify can name the positions it held.
      const rocksdb::Status strict = opened;
      opened = open_past_damaged_wal_records(impl, rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords, families,
                                             &handles, &db);
      impl.storage_damage_read_past = opened.ok();
      if (!opened.ok()) {
        // RocksDB 7.8 can fail to read on after a damaged fragment of a large record (a
        // checkpoint's): "Write batch content corrupted". Reading up to the damage still names
        // the first position that could not be read.
        opened = open_past_damaged_wal_records(impl, rocksdb::WALRecoveryMode::kPointInTimeRecovery, families,
                                               &handles, &db);
      }
      if (opened.ok()) {
        impl.storage_damage = strict.ToString();
      } else {
        opened = strict;  // the lenient opens could not read it either: the first answer stands
      }
    }
  } else {
    // Ours, not RocksDB's file logger, which aborts on the line after a failed write (a full disk).
    impl.tuning.db.info_log = make_info_log(impl.path);
    // Strict first: a damaged WAL record fails the open instead of silently ending the log there
    // (engine/wal_damage_check.h); a torn tail is then recovered to its last whole batch.
    rocksdb::DBOptions strict = impl.tuning.db;
    strict.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
    opened = rocksdb::DB::Open(strict, impl.path, families, &handles, &db);
    if (opened.IsCorruption()) {
      const Status tail = check_wal_damage_is_a_torn_tail(impl.path, impl.tuning, families, opened);
      if (!tail.is_ok()) return tail;
      handles.clear();
      opened = rocksdb::DB::Open(impl.tuning.db, impl.path, families, &handles, &db);
    }
  }
  if (!opened.ok()) {
    if (opened.IsIOError() && opened.ToString().find("lock") != std::string::npos) {
      return Status::busy(fmt::format("{} is in use by another process ({})", impl.path, opened.ToString()));
    }
    return from_rocksdb(opened, fmt::format("opening {}", impl.path));
  }
  impl.db.reset(db);
  assert(handles.size() == 2);
  impl.log_family = handles[0];
  impl.projections_family = handles[1];
  return Status::ok();
}

}  // namespace

Status from_rocksdb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::ok();
  std::string message = fmt::format("{}: {}", what, status.ToString());
  if (status.IsCorruption()) return Status::corruption(std::move(message));
  if (status.IsNotFound()) return Status::not_found(std::move(message));
  if (status.IsInvalidArgument() || status.IsNotSupported()) return Status::invalid_argument(std::move(message));
  if (status.IsBusy() || status.IsTryAgain()) return Status::busy(std::move(message));
  return Status::io_error(std::move(message));
}

rocksdb::ReadOptions sequential_read_options(const rocksdb::Slice* upper_bound) {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  read.fill_cache = false;
  read.readahead_size = readahead_bytes;
  read.iterate_upper_bound = upper_bound;
  return read;
}

rocksdb::ReadOptions point_read_options() {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  return read;
}

LogStore::Impl::~Impl() {
  if (db) {
    if (log_family != nullptr) db->DestroyColumnFamilyHandle(log_family);
    if (projections_family != nullptr) db->DestroyColumnFamilyHandle(projections_family);
    db->Close();
    db.reset();
  }
  if (!owned_secondary_path.empty()) {
    std::error_code ignored;
    fs::remove_all(owned_secondary_path, ignored);
    leftovers::remove(owned_secondary_path);
  }
}

Status LogStore::Impl::load_metadata_head(LogHead* head) const {
  std::string position;
  std::string hash;
  const rocksdb::Status got_position = db->Get(point_read_options(), log_family, log_keys::meta_last_position, &position);
  const rocksdb::Status got_hash = db->Get(point_read_options(), log_family, log_keys::meta_last_hash, &hash);
  if (got_position.IsNotFound() && got_hash.IsNotFound()) {
    *head = LogHead{};
    return Status::ok();
  }
  if (!got_position.ok()) return from_rocksdb(got_position, "reading metadata last_position");
  if (!got_hash.ok()) return from_rocksdb(got_hash, "reading metadata last_hash");
  if (position.size() != 8 || hash.size() != 32) return Status::corruption("metadata head has the wrong size");
  head->position = load_u64_be(position);
  std::copy(hash.begin(), hash.end(), head->hash.begin());
  return Status::ok();
}

Status LogStore::Impl::load_last_event(LogHead* head) const {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(point_read_options(), log_family));
  it->SeekForPrev(log_keys::event_key(~uint64_t{0}));
  if (!it->Valid()) {
    *head = LogHead{};
    return from_rocksdb(it->status(), "seeking the last event");
  }
  const std::optional<uint64_t> position = log_keys::parse_event_key(it->key().ToStringView());
  if (!position) {
    *head = LogHead{};  // the key before every `e` key is not an event: the log is empty
    return it->key().ToStringView().starts_with(log_keys::event_tag)
               ? Status::corruption("malformed event key at the end of the log")
               : Status::ok();
  }
  const std::optional<Digest> hash = stored_hash_field(it->value().ToStringView());
  if (!hash) return Status::corruption(fmt::format("position {}: the stored value has no hash field", *position));
  *head = LogHead{*position, *hash};
  return Status::ok();
}

Status LogStore::Impl::get_event_value(uint64_t position, std::string* value) const {
  const rocksdb::Status got = db->Get(point_read_options(), log_family, log_keys::event_key(position), value);
  return from_rocksdb(got, fmt::format("reading position {}", position));
}

LogStore::LogStore() = default;
LogStore::~LogStore() = default;

Status LogStore::open(const std::string& path, const LogOptions& options, std::unique_ptr<LogStore>* out) {
  assert(out != nullptr);
  assert(!path.empty());
  if (options.stream_cache_entries_max < 2 || options.checkpoint_chunk_bytes == 0) {
    return Status::invalid_argument("stream_cache_entries_max must be at least 2 and checkpoint_chunk_bytes above 0");
  }
  std::unique_ptr<LogStore> store(new LogStore());
  store->impl_ = std::make_unique<Impl>(options);
  Impl& impl = *store->impl_;
  impl.path = path;
  impl.tuning = make_rocksdb_tuning(options);
  if (Status status = check_folder(path, options, impl.tuning); !status.is_ok()) return status;
  // A primary's own open is strict about missing data files; a secondary's is not.
  if (impl.secondary()) {
    const std::vector<std::string> families{rocksdb::kDefaultColumnFamilyName, projections_column_family};
    if (Status complete = check_data_files_complete(path, impl.tuning, families); !complete.is_ok()) return complete;
  }
  if (Status status = open_database(impl); !status.is_ok()) return status;
  if (Status status = check_schema(impl); !status.is_ok()) {
    // The skipped records may have held the schema itself: the folder is damaged, not foreign.
    if (!impl.storage_damage.empty()) return Status::corruption(fmt::format("opening {}: {}", path, impl.storage_damage));
    return status;
  }
  if (Status status = recover_head(impl); !status.is_ok()) return status;
  *out = std::move(store);
  return Status::ok();
}

Status LogStore::catch_up() {
  Impl& impl = *impl_;
  if (!impl.secondary()) return Status::invalid_argument("catch_up() is for secondary instances");
  if (Status status = from_rocksdb(impl.db->TryCatchUpWithPrimary(), "catching up with the primary"); !status.is_ok()) {
    return status;
  }
  LogHead head;
  if (Status status = impl.load_metadata_head(&head); !status.is_ok()) return status;
  std::lock_guard lock(impl.state_mutex);
  impl.committed_head = head;
  return Status::ok();
}

}  // namespace tl
