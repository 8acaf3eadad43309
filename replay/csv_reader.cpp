#include "replay/csv_reader.h"

#include <cassert>

#include <fmt/format.h>

namespace tl::replay {

int CsvReader::get() {
  const int c = std::getc(file_);
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::peek() {
  const int c = std::getc(file_);
  if (c != EOF) std::ungetc(c, file_);
  return c;
}

bool CsvReader::fail(std::string_view what) {
  error_ = fmt::format("line {}: {}", line_, what);
  return false;
}

bool CsvReader::next(std::vector<std::string>* fields) {
  assert(fields != nullptr);
  fields->clear();
  quoted_.clear();
  error_.clear();
  if (!started_) {
    started_ = true;
    // A byte order mark: EF BB BF.
    if (peek() == 0xEF) {
      const int bom[3] = {get(), get(), get()};
      if (bom[1] != 0xBB || bom[2] != 0xBF) return fail("bytes that are not UTF-8 text at the start");
    }
  }
  if (peek() == EOF) return std::ferror(file_) ? fail("the file cannot be read") : false;
  record_line_ = line_;
  size_t record_bytes = 0;
  std::string field;
  for (;;) {
    int c = get();
    const bool field_quoted = c == '"';
    if (field_quoted) {
      // A quoted field: up to the closing quote, which must end the field. (It may span lines:
      // an unclosed one is reported at the line where it opened.)
      const uint64_t opened_line = line_;
      for (;;) {
        c = get();
        if (c == EOF) {
          line_ = opened_line;
          return fail("a quoted field is never closed");
        }
        if (c == '"') {
          if (peek() != '"') break;
          get();
        }
        field.push_back(static_cast<char>(c));
        if (++record_bytes > csv_record_bytes_max) return fail("the record is too long");
      }
      c = get();
      if (c != ',' && c != '\n' && c != '\r' && c != EOF) return fail("text after a closing quote");
    } else {
      while (c != ',' && c != '\n' && c != '\r' && c != EOF) {
        if (c == '"') return fail("a quote inside an unquoted field");
        field.push_back(static_cast<char>(c));
        if (++record_bytes > csv_record_bytes_max) return fail("the record is too long");
        c = get();
      }
    }
    if (c == '\r') {
      if (peek() != '\n') return fail("a CR that is not followed by LF");
      c = get();
    }
    fields->push_back(std::move(field));
    quoted_.push_back(field_quoted);
    field.clear();
    if (fields->size() > csv_fields_max) return fail("too many fields");
    if (c != ',') return true;  // LF or the end of the input ends the record
  }
}

}  // namespace tl::replay
