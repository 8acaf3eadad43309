#pragma once
// Reads RFC 4180 CSV from a stream, one record at a time: fields separated by commas, records
// ended by CRLF or LF, fields optionally quoted with `"` (a doubled quote inside stands for one,
// and a quoted field may hold commas and line breaks). A UTF-8 byte order mark at the start is
// skipped. Anything else (a quote inside an unquoted field, text after a closing quote, a
// quoted field never closed, a stray CR) is an error naming the line.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tl::replay {

constexpr size_t csv_record_bytes_max = 64 * 1024;
constexpr size_t csv_fields_max = 256;

class CsvReader {
 public:
  explicit CsvReader(std::FILE* file) : file_(file) {}  // not owned

  // Reads the next record into `fields`. False at the end of the input or on an error; error()
  // tells them apart.
  bool next(std::vector<std::string>* fields);
  // Whether field `index` of the last record was quoted: its text is then exactly as written,
  // where an unquoted field's spaces may be layout.
  bool quoted(size_t index) const { return index < quoted_.size() && quoted_[index]; }
  // The line the last record started on, from 1.
  uint64_t record_line() const { return record_line_; }
  // Empty unless the last call to next() failed: "line 7: quote inside an unquoted field".
  const std::string& error() const { return error_; }

 private:
  int get();
  int peek();
  bool fail(std::string_view what);

  std::FILE* file_;
  uint64_t line_ = 1;
  uint64_t record_line_ = 0;
  bool started_ = false;
  std::string error_;
  std::vector<bool> quoted_;  // one per field of the last record
};

}  // namespace tl::replay
