#pragma once
// Where the audit commands write text: stdout, stderr, a file, or a string in tests. Exports can
// be larger than memory, so they are written in pieces through a sink, never built whole.
#include <cstdio>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace tl::replay {

class TextSink {
 public:
  virtual ~TextSink() = default;
  virtual void write(std::string_view text) = 0;
  // The first write error, if any (a full disk, a closed pipe).
  virtual Status status() const { return Status::ok(); }
};

// Writes to a C stream it does not own (stdout, stderr). `on_closed_pipe`, when given, is called
// when a write fails because the stream's reader closed it (EPIPE); the CLI's ends the process.
// Should it return, the failure is recorded as any other write error.
class FileSink final : public TextSink {
 public:
  explicit FileSink(std::FILE* file, void (*on_closed_pipe)() = nullptr)
      : file_(file), on_closed_pipe_(on_closed_pipe) {}
  void write(std::string_view text) override;
  Status status() const override { return status_; }

 private:
  std::FILE* file_;
  void (*on_closed_pipe_)();
  Status status_;
};

// Keeps everything written: for tests and small outputs.
class StringSink final : public TextSink {
 public:
  void write(std::string_view text) override { text_.append(text); }
  const std::string& text() const { return text_; }
  void clear() { text_.clear(); }

 private:
  std::string text_;
};

// Collects small writes (CSV rows, JSON objects) and passes them on in pieces of about
// `buffer_bytes_max`, so that a sink over a file sees few, large writes.
class BufferedWriter {
 public:
  static constexpr size_t buffer_bytes_max = 256 * 1024;

  explicit BufferedWriter(TextSink& sink) : sink_(sink) { buffer_.reserve(buffer_bytes_max + 4096); }
  ~BufferedWriter() { flush(); }
  BufferedWriter(const BufferedWriter&) = delete;
  BufferedWriter& operator=(const BufferedWriter&) = delete;

  // The buffer to append to; call done_appending() after each row or object.
  std::string& buffer() { return buffer_; }
  void done_appending() {
    if (buffer_.size() >= buffer_bytes_max) flush();
  }
  void write(std::string_view text) {
    buffer_.append(text);
    done_appending();
  }
  void flush();

 private:
  TextSink& sink_;
  std::string buffer_;
};

}  // namespace tl::replay
