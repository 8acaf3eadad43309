#pragma once
// A RocksDB file system over the real one that knows what a power cut would keep.
//
// SIGKILL leaves the page cache intact, so it cannot show a missing fsync. This wrapper remembers,
// for every file written through it, how many bytes were written and how many of them a
// Sync/Fsync made durable; and, per directory, which files were created, renamed or deleted since
// the directory's last fsync. `restart_after_power_loss()` then does to the folder what a power
// cut does: every file falls back to its synced length (keeping, if asked, a random part of what
// came after it: a torn tail), and namespace changes not covered by a directory fsync are undone
// (created files vanish, renames go back, deleted files return). Files the wrapper never wrote
// count as durable.
//
// Two kinds of fault:
//   - power: `cut_power_after(n)`: the n-th changing operation from now (append, sync, truncate,
//     create, rename, delete, directory fsync) and every one after it fail with IOError, as if the
//     machine had stopped at that instant. Reads still work (nothing reads after a real cut).
//   - storage faults: while `fail_appends` is set, appends fail with NoSpace (a full disk); while
//     `fail_syncs` is set, syncs fail with IOError (a device error). The power stays on.
//
// Deleted and overwritten files are kept as hard links in a stash folder (on the same file
// system) until a directory fsync makes their removal durable. Model limits: renames across
// directories are recorded in the target's directory only; a file truncated by re-creation
// (O_TRUNC) is modelled as empty-and-unsynced; the creation of directories counts as durable.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace tl::test {

// What one simulated power loss undid.
struct PowerLossCounts {
  uint64_t files_truncated = 0;
  uint64_t bytes_dropped = 0;
  uint64_t files_removed = 0;    // created since their directory's last fsync
  uint64_t renames_undone = 0;
  uint64_t deletes_undone = 0;
  uint64_t operations_before_cut = 0;  // changing operations that succeeded since the last restart
};

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // `stash_folder` must exist and be on the same file system as the data (hard links).
  explicit PowerLossFileSystem(std::string stash_folder);
  ~PowerLossFileSystem() override;
  const char* Name() const override { return "PowerLossFileSystem"; }

  // The power goes off at the `operations`-th changing operation from now (1: the next one).
  void cut_power_after(uint64_t operations);
  void cut_power_now();
  void cancel_cut();  // no cut pending (the power stays on)
  bool power_is_off() const;
  uint64_t changing_operations() const;  // since the last restart

  // Storage faults (see above).
  std::atomic<bool> fail_appends{false};
  std::atomic<bool> fail_syncs{false};

  // What became of the bytes and directory changes no sync had made durable.
  enum class Unsynced {
    dropped,  // a power cut: files fall back to their synced length, directory changes are undone
    torn,     // a power cut after part of the writes reached the disk: each file keeps a random
              // prefix of its unsynced bytes; directory changes are undone
    kept,     // the process died at the cut but the machine did not: the page cache survives
  };
  // The machine comes back after the cut (see the header comment), then the power is on again
  // and everything on disk counts as durable. RocksDB must have closed every file under the
  // wrapper's control first.
  PowerLossCounts restart_after_power_loss(std::mt19937_64& random, Unsynced unsynced);

  // --- rocksdb::FileSystem -------------------------------------------------------------------
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus Truncate(const std::string& name, size_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus CreateDir(const std::string& name, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& name, const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus DeleteDir(const std::string& name, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* debug) override;

  // --- used by the file and directory wrappers ----------------------------------------------
  struct FileTrack {
    uint64_t written_bytes = 0;
    uint64_t synced_bytes = 0;
  };
  // Counts one changing operation; false (and the power is off) when it must fail.
  bool power_for_one_operation();
  void file_appended(const std::shared_ptr<FileTrack>& track, uint64_t end_offset);
  void file_truncated(const std::shared_ptr<FileTrack>& track, uint64_t size);
  uint64_t written_bytes(const std::shared_ptr<FileTrack>& track) const;
  void file_synced(const std::shared_ptr<FileTrack>& track, uint64_t durable_bytes);
  // A directory fsync covers the changes recorded before it started: those up to this serial.
  uint64_t last_change_serial() const;
  void directory_synced(const std::string& directory, uint64_t last_serial_covered);

 private:
  struct NamespaceChange {
    enum class Kind { created, renamed, deleted };
    Kind kind = Kind::created;
    uint64_t serial = 0;                // order of all changes (concurrent fsyncs of one directory)
    std::string name;                   // the path the change made appear or disappear
    std::string renamed_from;           // renamed: where the file came from
    std::string stash;                  // deleted / overwritten by a rename: the old file's link
    std::shared_ptr<FileTrack> stashed_track;  // what of the stashed file was durable
  };

  rocksdb::IOStatus power_off_error() const;
  std::shared_ptr<FileTrack> track_new_file(const std::string& name, bool existed, uint64_t size);
  std::string stash_link_locked(const std::string& path);  // "" when the path does not exist
  void record_change_locked(NamespaceChange change);
  uint64_t durable_length(const FileTrack& track, std::mt19937_64& random, Unsynced unsynced);

  const std::string stash_folder_;
  mutable std::mutex mutex_;
  bool power_off_ = false;
  uint64_t operations_ = 0;
  uint64_t cut_at_operation_ = 0;  // 0: no cut pending
  uint64_t stash_serial_ = 0;
  uint64_t change_serial_ = 0;
  std::map<std::string, std::shared_ptr<FileTrack>> files_;          // by current path
  std::map<std::string, std::vector<NamespaceChange>> unsynced_;     // by directory, in order
};

// A fresh folder, in memory (/dev/shm) when the machine has one, removed on destruction. Under a
// PowerLossFileSystem durability is simulated, so a real disk's fsync would only cost time.
class ScratchFolder {
 public:
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// An Env over a PowerLossFileSystem (for LogOptions::env), with its own stash folder.
struct PowerLossEnv {
  explicit PowerLossEnv(const std::string& stash_folder);
  std::shared_ptr<PowerLossFileSystem> file_system;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace tl::test
