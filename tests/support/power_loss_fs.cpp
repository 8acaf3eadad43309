#include "support/power_loss_fs.h"

#include <algorithm>
#include <cstdlib>
#include <cassert>
#include <filesystem>
#include <system_error>

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::string trim_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : trim_trailing_slashes(path.substr(0, slash));
}

bool path_exists(const std::string& path) {
  std::error_code error;
  return fs::exists(path, error);
}

uint64_t size_on_disk(const std::string& path) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

// A writable file that reports its appends and syncs to the file system's ledger of durable
// bytes, and fails once the power is off or the disk is full.
class TrackedWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& file, PowerLossFileSystem& owner,
                      std::shared_ptr<PowerLossFileSystem::FileTrack> track)
      : FSWritableFileOwnerWrapper(std::move(file)), owner_(owner), track_(std::move(track)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* debug) override {
    if (IOStatus refused = refuse_append(); !refused.ok()) return refused;
    const uint64_t end = owner_.written_bytes(track_) + data.size();
    IOStatus status = target()->Append(data, options, debug);
    if (status.ok()) owner_.file_appended(track_, end);
    return status;
  }
  IOStatus Append(const Slice& data, const IOOptions& options, const rocksdb::DataVerificationInfo& info,
                  IODebugContext* debug) override {
    if (IOStatus refused = refuse_append(); !refused.ok()) return refused;
    const uint64_t end = owner_.written_bytes(track_) + data.size();
    IOStatus status = target()->Append(data, options, info, debug);
    if (status.ok()) owner_.file_appended(track_, end);
    return status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* debug) override {
    if (IOStatus refused = refuse_append(); !refused.ok()) return refused;
    IOStatus status = target()->PositionedAppend(data, offset, options, debug);
    if (status.ok()) owner_.file_appended(track_, offset + data.size());
    return status;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info, IODebugContext* debug) override {
    if (IOStatus refused = refuse_append(); !refused.ok()) return refused;
    IOStatus status = target()->PositionedAppend(data, offset, options, info, debug);
    if (status.ok()) owner_.file_appended(track_, offset + data.size());
    return status;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* debug) override {
    if (!owner_.power_for_one_operation()) return power_cut();
    IOStatus status = target()->Truncate(size, options, debug);
    if (status.ok()) owner_.file_truncated(track_, size);
    return status;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* debug) override {
    return sync([&] { return target()->Sync(options, debug); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* debug) override {
    return sync([&] { return target()->Fsync(options, debug); });
  }
  // sync_file_range writes pages back but promises nothing about durability: not a sync here.
  IOStatus RangeSync(uint64_t offset, uint64_t bytes, const IOOptions& options, IODebugContext* debug) override {
    if (owner_.power_is_off()) return power_cut();
    return target()->RangeSync(offset, bytes, options, debug);
  }
  IOStatus Close(const IOOptions& options, IODebugContext* debug) override {
    IOStatus status = target()->Close(options, debug);  // always release the descriptor
    if (owner_.power_is_off()) return power_cut();
    return status;
  }

 private:
  static IOStatus power_cut() { return IOStatus::IOError("simulated power cut"); }

  IOStatus refuse_append() {
    if (!owner_.power_for_one_operation()) return power_cut();
    if (owner_.fail_appends) return IOStatus::NoSpace("simulated disk full: no space left on device");
    return IOStatus::OK();
  }

  template <class Call>
  IOStatus sync(Call&& call) {
    if (!owner_.power_for_one_operation()) return power_cut();
    if (owner_.fail_syncs) return IOStatus::IOError("simulated device error: sync failed");
    const uint64_t written = owner_.written_bytes(track_);  // what this sync covers at least
    IOStatus status = call();
    if (status.ok()) owner_.file_synced(track_, written);
    return status;
  }

  PowerLossFileSystem& owner_;
  std::shared_ptr<PowerLossFileSystem::FileTrack> track_;
};

// A directory whose fsync makes the namespace changes recorded before it durable.
class TrackedDirectory : public rocksdb::FSDirectory {
 public:
  TrackedDirectory(std::unique_ptr<rocksdb::FSDirectory>&& directory, PowerLossFileSystem& owner, std::string name)
      : target_(std::move(directory)), owner_(owner), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* debug) override {
    return sync([&] { return target_->Fsync(options, debug); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* debug,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    return sync([&] { return target_->FsyncWithDirOptions(options, debug, dir_options); });
  }
  IOStatus Close(const IOOptions& options, IODebugContext* debug) override { return target_->Close(options, debug); }
  size_t GetUniqueId(char* id, size_t max_size) const override { return target_->GetUniqueId(id, max_size); }

 private:
  template <class Call>
  IOStatus sync(Call&& call) {
    if (!owner_.power_for_one_operation()) return IOStatus::IOError("simulated power cut");
    const uint64_t covered = owner_.last_change_serial();
    IOStatus status = call();
    if (status.ok()) owner_.directory_synced(name_, covered);
    return status;
  }

  std::unique_ptr<rocksdb::FSDirectory> target_;
  PowerLossFileSystem& owner_;
  std::string name_;
};

}  // namespace

PowerLossFileSystem::PowerLossFileSystem(std::string stash_folder)
    : FileSystemWrapper(rocksdb::FileSystem::Default()), stash_folder_(std::move(stash_folder)) {
  assert(fs::is_directory(stash_folder_));
}

PowerLossFileSystem::~PowerLossFileSystem() = default;

void PowerLossFileSystem::cut_power_after(uint64_t operations) {
  assert(operations >= 1);
  std::lock_guard lock(mutex_);
  cut_at_operation_ = operations_ + operations;
}

void PowerLossFileSystem::cut_power_now() {
  std::lock_guard lock(mutex_);
  power_off_ = true;
}

void PowerLossFileSystem::cancel_cut() {
  std::lock_guard lock(mutex_);
  cut_at_operation_ = 0;
}

bool PowerLossFileSystem::power_is_off() const {
  std::lock_guard lock(mutex_);
  return power_off_;
}

uint64_t PowerLossFileSystem::changing_operations() const {
  std::lock_guard lock(mutex_);
  return operations_;
}

bool PowerLossFileSystem::power_for_one_operation() {
  std::lock_guard lock(mutex_);
  if (power_off_) return false;
  ++operations_;
  if (cut_at_operation_ != 0 && operations_ >= cut_at_operation_) {
    power_off_ = true;
    return false;
  }
  return true;
}

void PowerLossFileSystem::file_appended(const std::shared_ptr<FileTrack>& track, uint64_t end_offset) {
  std::lock_guard lock(mutex_);
  track->written_bytes = std::max(track->written_bytes, end_offset);
}

void PowerLossFileSystem::file_truncated(const std::shared_ptr<FileTrack>& track, uint64_t size) {
  std::lock_guard lock(mutex_);
  track->written_bytes = size;
  track->synced_bytes = std::min(track->synced_bytes, size);
}

uint64_t PowerLossFileSystem::written_bytes(const std::shared_ptr<FileTrack>& track) const {
  std::lock_guard lock(mutex_);
  return track->written_bytes;
}

void PowerLossFileSystem::file_synced(const std::shared_ptr<FileTrack>& track, uint64_t durable_bytes) {
  std::lock_guard lock(mutex_);
  track->synced_bytes = std::max(track->synced_bytes, std::min(durable_bytes, track->written_bytes));
}

uint64_t PowerLossFileSystem::last_change_serial() const {
  std::lock_guard lock(mutex_);
  return change_serial_;
}

void PowerLossFileSystem::directory_synced(const std::string& directory, uint64_t last_serial_covered) {
  std::lock_guard lock(mutex_);
  auto it = unsynced_.find(directory);
  if (it == unsynced_.end()) return;
  std::vector<NamespaceChange>& changes = it->second;
  // Changes are recorded in serial order; another fsync of the same directory may have run
  // meanwhile and taken some of them already.
  size_t covered = 0;
  while (covered < changes.size() && changes[covered].serial <= last_serial_covered) {
    // The removal of the old file is durable now: its stashed link is no longer needed.
    if (!changes[covered].stash.empty()) {
      std::error_code ignored;
      fs::remove(changes[covered].stash, ignored);
    }
    ++covered;
  }
  changes.erase(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(covered));
}

IOStatus PowerLossFileSystem::power_off_error() const { return IOStatus::IOError("simulated power cut"); }

std::shared_ptr<PowerLossFileSystem::FileTrack> PowerLossFileSystem::track_new_file(const std::string& name,
                                                                                  bool existed, uint64_t size) {
  std::lock_guard lock(mutex_);
  auto& track = files_[name];
  if (track == nullptr || size == 0) {
    track = std::make_shared<FileTrack>();
    track->written_bytes = size;
    track->synced_bytes = size;  // what was there before we saw it counts as durable
  }
  if (!existed) record_change_locked(NamespaceChange{NamespaceChange::Kind::created, 0, name, {}, {}, nullptr});
  return track;
}

std::string PowerLossFileSystem::stash_link_locked(const std::string& path) {
  if (!path_exists(path)) return {};
  const std::string stash = stash_folder_ + "/stash-" + std::to_string(++stash_serial_);
  std::error_code error;
  fs::create_hard_link(path, stash, error);
  assert(!error && "the stash folder must be on the data's file system");
  return error ? std::string() : stash;
}

void PowerLossFileSystem::record_change_locked(NamespaceChange change) {
  change.serial = ++change_serial_;
  unsynced_[parent_of(change.name)].push_back(std::move(change));
}

uint64_t PowerLossFileSystem::durable_length(const FileTrack& track, std::mt19937_64& random, Unsynced unsynced) {
  assert(track.synced_bytes <= track.written_bytes);
  switch (unsynced) {
    case Unsynced::dropped: return track.synced_bytes;
    case Unsynced::torn: return std::uniform_int_distribution<uint64_t>(track.synced_bytes, track.written_bytes)(random);
    case Unsynced::kept: return track.written_bytes;
  }
  return track.synced_bytes;
}

PowerLossCounts PowerLossFileSystem::restart_after_power_loss(std::mt19937_64& random, Unsynced unsynced) {
  std::lock_guard lock(mutex_);
  PowerLossCounts counts;
  counts.operations_before_cut = operations_;
  auto cut_back = [&](const std::string& path, const FileTrack& track) {
    const uint64_t on_disk = size_on_disk(path);
    const uint64_t keep = std::min(on_disk, durable_length(track, random, unsynced));
    if (keep == on_disk) return;
    std::error_code error;
    fs::resize_file(path, keep, error);
    assert(!error);
    ++counts.files_truncated;
    counts.bytes_dropped += on_disk - keep;
  };
  // File data first, at the files' current names; then the namespace, newest change first.
  for (const auto& [path, track] : files_) {
    if (path_exists(path)) cut_back(path, *track);
  }
  if (unsynced == Unsynced::kept) unsynced_.clear();  // the directory changes stay as they are
  for (auto& [directory, changes] : unsynced_) {
    for (auto change = changes.rbegin(); change != changes.rend(); ++change) {
      std::error_code error;
      switch (change->kind) {
        case NamespaceChange::Kind::created:
          if (fs::remove(change->name, error)) ++counts.files_removed;
          break;
        case NamespaceChange::Kind::renamed:
          if (path_exists(change->name)) fs::rename(change->name, change->renamed_from, error);
          if (!change->stash.empty()) {
            if (change->stashed_track) cut_back(change->stash, *change->stashed_track);
            fs::rename(change->stash, change->name, error);
          }
          ++counts.renames_undone;
          break;
        case NamespaceChange::Kind::deleted:
          if (!change->stash.empty()) {
            if (change->stashed_track) cut_back(change->stash, *change->stashed_track);
            fs::rename(change->stash, change->name, error);
            ++counts.deletes_undone;
          }
          break;
      }
      assert(!error);
    }
  }
  files_.clear();
  unsynced_.clear();
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(stash_folder_, ignored)) fs::remove(entry.path(), ignored);
  power_off_ = false;
  operations_ = 0;
  cut_at_operation_ = 0;
  return counts;
}

// --- rocksdb::FileSystem -----------------------------------------------------------------------

IOStatus PowerLossFileSystem::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  const bool existed = path_exists(name);
  IOStatus status = target()->NewWritableFile(name, options, result, debug);
  if (!status.ok()) return status;
  *result = std::make_unique<TrackedWritableFile>(std::move(*result), *this, track_new_file(name, existed, 0));
  return status;
}

IOStatus PowerLossFileSystem::ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                 IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  const bool existed = path_exists(name);
  const uint64_t size = existed ? size_on_disk(name) : 0;
  IOStatus status = target()->ReopenWritableFile(name, options, result, debug);
  if (!status.ok()) return status;
  *result = std::make_unique<TrackedWritableFile>(std::move(*result), *this, track_new_file(name, existed, size));
  return status;
}

IOStatus PowerLossFileSystem::ReuseWritableFile(const std::string& name, const std::string& old_name,
                                                const rocksdb::FileOptions& options,
                                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                IODebugContext* debug) {
  IOStatus status = RenameFile(old_name, name, options.io_options, debug);
  if (!status.ok()) return status;
  return NewWritableFile(name, options, result, debug);
}

IOStatus PowerLossFileSystem::NewRandomRWFile(const std::string&, const rocksdb::FileOptions&,
                                              std::unique_ptr<rocksdb::FSRandomRWFile>*, IODebugContext*) {
  // In-place writes are not modelled; RocksDB does not need them for this database.
  return IOStatus::NotSupported("PowerLossFileSystem does not model random read-write files");
}

IOStatus PowerLossFileSystem::NewDirectory(const std::string& name, const IOOptions& options,
                                           std::unique_ptr<rocksdb::FSDirectory>* result, IODebugContext* debug) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  IOStatus status = target()->NewDirectory(name, options, &directory, debug);
  if (!status.ok()) return status;
  *result = std::make_unique<TrackedDirectory>(std::move(directory), *this, trim_trailing_slashes(name));
  return status;
}

IOStatus PowerLossFileSystem::DeleteFile(const std::string& name, const IOOptions& options, IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  std::lock_guard lock(mutex_);
  NamespaceChange change{NamespaceChange::Kind::deleted, 0, name, {}, stash_link_locked(name), nullptr};
  IOStatus status = target()->DeleteFile(name, options, debug);
  if (!status.ok()) {
    std::error_code ignored_error;
    if (!change.stash.empty()) fs::remove(change.stash, ignored_error);
    return status;
  }
  if (auto it = files_.find(name); it != files_.end()) {
    change.stashed_track = std::move(it->second);
    files_.erase(it);
  }
  record_change_locked(std::move(change));
  return status;
}

IOStatus PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                                         IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  std::lock_guard lock(mutex_);
  NamespaceChange change{NamespaceChange::Kind::renamed, 0, to, from, stash_link_locked(to), nullptr};
  IOStatus status = target()->RenameFile(from, to, options, debug);
  if (!status.ok()) {
    std::error_code ignored_error;
    if (!change.stash.empty()) fs::remove(change.stash, ignored_error);
    return status;
  }
  if (auto it = files_.find(to); it != files_.end()) {
    change.stashed_track = std::move(it->second);
    files_.erase(it);
  }
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = std::move(it->second);
    files_.erase(from);
  }
  record_change_locked(std::move(change));
  return status;
}

IOStatus PowerLossFileSystem::LinkFile(const std::string&, const std::string&, const IOOptions&, IODebugContext*) {
  return IOStatus::NotSupported("PowerLossFileSystem does not model hard links");
}

IOStatus PowerLossFileSystem::Truncate(const std::string& name, size_t size, const IOOptions& options,
                                       IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  IOStatus status = target()->Truncate(name, size, options, debug);
  if (!status.ok()) return status;
  std::shared_ptr<FileTrack> track;
  {
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(name); it != files_.end()) track = it->second;
  }
  if (track) file_truncated(track, size);
  return status;
}

IOStatus PowerLossFileSystem::CreateDir(const std::string& name, const IOOptions& options, IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  return target()->CreateDir(name, options, debug);
}

IOStatus PowerLossFileSystem::CreateDirIfMissing(const std::string& name, const IOOptions& options,
                                                 IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  return target()->CreateDirIfMissing(name, options, debug);
}

IOStatus PowerLossFileSystem::DeleteDir(const std::string& name, const IOOptions& options, IODebugContext* debug) {
  if (!power_for_one_operation()) return power_off_error();
  return target()->DeleteDir(name, options, debug);
}

ScratchFolder::ScratchFolder() {
  std::error_code error;
  const bool in_memory = fs::is_directory("/dev/shm", error);
  std::string pattern = std::string(in_memory ? "/dev/shm" : "/tmp") + "/tl-scratch-XXXXXX";
  const char* made = mkdtemp(pattern.data());
  assert(made != nullptr);
  (void)made;
  path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

PowerLossEnv::PowerLossEnv(const std::string& stash_folder)
    : file_system(std::make_shared<PowerLossFileSystem>(stash_folder)), env(rocksdb::NewCompositeEnv(file_system)) {}

}  // namespace tl::test
