#pragma once
// `--output FILE`: the export goes to a temporary file beside FILE, which is synced and renamed
// over FILE only when the export is complete. A reader of FILE sees the old file or the whole
// new one, never half an export; a failed export leaves FILE as it was. Exports hold money
// data: the file is private to its owner (mode 0600, as mkstemp makes it). When FILE is a
// symbolic link, the file it points to is the one replaced. A regular file without any write
// permission bit is refused, not replaced: someone made it read-only on purpose.
//
// When FILE exists and is not a regular file (a named pipe, /dev/stdout, a terminal), the export
// is written to it directly: renaming over it would replace the device or pipe with an ordinary
// file. Write errors (a full device) still fail the export. A file name over 255 bytes is
// refused before anything is written.
#include <cstdio>
#include <memory>
#include <string>

#include "replay/text_sink.h"

namespace tl::replay {

// The file that writing to `path` replaces: the path itself, or the file its link points to (made
// absolute and free of `.`, `..` and links). io_error when the link cannot be read.
Status output_target(const std::string& path, std::string* target);

// True when `path`, once its links are followed, names `folder` or something inside it.
bool is_inside_folder(const std::string& path, const std::string& folder);

class AtomicFile final : public TextSink {
 public:
  static Status create(const std::string& path, std::unique_ptr<AtomicFile>* out);
  ~AtomicFile() override;  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view text) override;
  Status status() const override { return status_; }

  // Flushes, syncs, renames the temporary file to the path, and syncs the folder (direct: flushes
  // and closes).
  Status commit();
  const std::string& temporary_path() const { return temporary_path_; }  // empty when direct

 private:
  // An empty temporary_path: writing straight to `path`, which is not a regular file.
  AtomicFile(std::string path, std::string temporary_path, std::FILE* file)
      : path_(std::move(path)), temporary_path_(std::move(temporary_path)), file_(file) {}
  bool direct() const { return temporary_path_.empty(); }
  void fail(std::string_view what);

  std::string path_;
  std::string temporary_path_;
  std::FILE* file_;
  Status status_;
  bool committed_ = false;
};

}  // namespace tl::replay
