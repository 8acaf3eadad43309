#pragma once
// RFC 4180 CSV output for the finance exports.
//   - Lines end with CRLF, as RFC 4180 section 2 says (spreadsheets and CSV libraries read it;
//     `tr -d '\r'` gives LF lines for shell tools).
//   - A field is quoted when it contains a comma, a double quote, CR or LF; a double quote inside
//     a quoted field is doubled. Other fields are written as they are.
//   - Amounts are integers in minor units, with a currency column beside them.
#include <cstdint>
#include <string>
#include <string_view>

#include "replay/text_sink.h"

namespace tl::replay {

constexpr std::string_view csv_line_end = "\r\n";

// Appends one field, quoted if it must be.
void append_csv_field(std::string& out, std::string_view field);

class CsvWriter {
 public:
  explicit CsvWriter(TextSink& sink) : writer_(sink) {}

  CsvWriter& text(std::string_view field);
  CsvWriter& number(int64_t value);
  CsvWriter& blank() { return text({}); }
  void end_row();
  void flush() { writer_.flush(); }
  uint64_t rows_written() const { return rows_written_; }

 private:
  void separate();
  BufferedWriter writer_;
  bool row_open_ = false;
  uint64_t rows_written_ = 0;
};

}  // namespace tl::replay
