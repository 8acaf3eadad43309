#include "replay/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "engine/leftovers.h"

namespace tl::replay {
namespace {

std::string folder_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

constexpr std::string_view temporary_suffix = ".tmp-XXXXXX";  // mkstemp's template
constexpr size_t file_name_bytes_max = NAME_MAX;             // one path component, ext4 and most others

// The temporary file's path beside `target`: its name plus the suffix, the name cut short when
// the two would not fit in one path component (a file name of up to 255 bytes is valid).
std::string temporary_template(const std::string& target) {
  const std::filesystem::path path(target);
  std::string name = path.filename().string();
  name.resize(std::min(name.size(), file_name_bytes_max - temporary_suffix.size()));
  return (path.parent_path() / name).string() + std::string(temporary_suffix);
}

// Every write permission bit clear: someone made the file read-only, and replacing it (a rename
// needs only the folder's permission) would undo that.
bool read_only(std::filesystem::perms mode) {
  using std::filesystem::perms;
  return (mode & (perms::owner_write | perms::group_write | perms::others_write)) == perms::none;
}

}  // namespace

Status output_target(const std::string& path, std::string* target) {
  assert(target != nullptr);
  *target = path;
  std::error_code not_there;  // a path that does not exist yet is the common case
  if (!std::filesystem::is_symlink(std::filesystem::symlink_status(path, not_there))) return Status::ok();
  std::error_code error;
  std::filesystem::path pointed = std::filesystem::read_symlink(path, error);
  if (!error && pointed.is_relative()) pointed = std::filesystem::path(path).parent_path() / pointed;
  if (!error) *target = std::filesystem::weakly_canonical(pointed, error).string();
  if (error) return Status::io_error(fmt::format("cannot resolve {}: {}", path, error.message()));
  return Status::ok();
}

bool is_inside_folder(const std::string& path, const std::string& folder) {
  std::string target;
  if (!output_target(path, &target).is_ok()) return false;  // create() reports the broken link
  std::error_code target_error;
  std::error_code folder_error;
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(std::filesystem::absolute(target), target_error);
  const std::filesystem::path home = std::filesystem::weakly_canonical(std::filesystem::absolute(folder), folder_error);
  if (target_error || folder_error) return false;
  // Component by component: /data-old is not inside /data.
  const auto [home_end, resolved_at] = std::mismatch(home.begin(), home.end(), resolved.begin(), resolved.end());
  return home_end == home.end();
}

Status AtomicFile::create(const std::string& path, std::unique_ptr<AtomicFile>* out) {
  assert(out != nullptr);
  if (path.empty()) return Status::invalid_argument("the output path is empty");
  // A path that does not exist yet is the common case: its error code is not a failure.
  std::error_code not_there;
  const std::filesystem::file_status status = std::filesystem::status(path, not_there);  // follows links
  if (std::filesystem::is_directory(status)) return Status::invalid_argument(fmt::format("{} is a folder", path));
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    std::FILE* stream = std::fopen(path.c_str(), "wb");
    if (stream == nullptr) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    out->reset(new AtomicFile(path, "", stream));
    return Status::ok();
  }
  // Replace the file a link points to, not the link; a link to a file not made yet gets it made.
  std::string target;
  if (Status resolved = output_target(path, &target); !resolved.is_ok()) return resolved;
  if (std::filesystem::is_regular_file(status) && read_only(status.permissions())) {  // the link's file too
    return Status::invalid_argument(fmt::format("{} is read-only: not replaced", target));
  }
  if (std::filesystem::path(target).filename().string().size() > file_name_bytes_max) {
    return Status::invalid_argument(fmt::format("{}: the file name is longer than {} bytes", target, file_name_bytes_max));
  }
  std::string temporary = temporary_template(target);
  const int fd = mkstemp(temporary.data());
  if (fd < 0) return Status::io_error(fmt::format("cannot create a file beside {}: {}", target, std::strerror(errno)));
  std::FILE* file = fdopen(fd, "wb");
  if (file == nullptr) {
    const int saved = errno;
    close(fd);
    unlink(temporary.c_str());
    return Status::io_error(fmt::format("cannot open {}: {}", temporary, std::strerror(saved)));
  }
  leftovers::add(temporary, leftovers::Kind::file);  // removed on an interrupt too
  out->reset(new AtomicFile(target, std::move(temporary), file));
  return Status::ok();
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_ && !direct()) unlink(temporary_path_.c_str());
  if (!direct()) leftovers::remove(temporary_path_);
}

void AtomicFile::fail(std::string_view what) {
  if (status_.is_ok()) {
    status_ = Status::io_error(fmt::format("{} {}: {}", what, direct() ? path_ : temporary_path_, std::strerror(errno)));
  }
}

void AtomicFile::write(std::string_view text) {
  if (!status_.is_ok() || text.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) fail("writing");
}

Status AtomicFile::commit() {
  assert(!committed_);
  if (status_.is_ok() && std::fflush(file_) != 0) fail("flushing");
  // A pipe or a device (direct) has nothing to sync or rename.
  if (status_.is_ok() && !direct() && fsync(fileno(file_)) != 0) fail("syncing");
  if (std::fclose(file_) != 0) fail("closing");
  file_ = nullptr;
  if (!status_.is_ok()) return status_;
  if (direct()) {
    committed_ = true;
    return status_;
  }
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    fail("renaming");
    return status_;
  }
  committed_ = true;
  // The rename is durable once the folder is synced.
  const int folder = open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY);
  if (folder >= 0) {
    fsync(folder);
    close(folder);
  }
  return Status::ok();
}

}  // namespace tl::replay
