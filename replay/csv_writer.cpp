#include "replay/csv_writer.h"

#include <cassert>

#include <fmt/format.h>

namespace tl::replay {

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void CsvWriter::separate() {
  if (row_open_) writer_.buffer().push_back(',');
  row_open_ = true;
}

CsvWriter& CsvWriter::text(std::string_view field) {
  separate();
  append_csv_field(writer_.buffer(), field);
  return *this;
}

CsvWriter& CsvWriter::number(int64_t value) {
  separate();
  const fmt::format_int digits(value);
  writer_.buffer().append(digits.data(), digits.size());
  return *this;
}

void CsvWriter::end_row() {
  assert(row_open_);  // a row has at least one field
  writer_.buffer().append(csv_line_end);
  row_open_ = false;
  ++rows_written_;
  writer_.done_appending();
}

}  // namespace tl::replay
