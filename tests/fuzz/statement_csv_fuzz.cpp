// The CSV reader and the payment provider's statement (replay/csv_reader.h, replay/statement.h):
// `reconcile` reads a file that comes from outside, so any bytes must give rows or an error that
// names a line, never a crash. Properties:
//   - a record has 1 to csv_fields_max fields, and an error names its line;
//   - input that reads whole writes back (append_csv_field, CRLF) to text that reads as the same
//     records, quoted or not (the finance exports are written that way and must read back);
//   - a statement row has a non-empty reference, a non-negative amount, and lines that increase;
//     a statement that stops early says why, naming a line.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "replay/csv_reader.h"
#include "replay/csv_writer.h"
#include "replay/statement.h"

namespace {

using Records = std::vector<std::vector<std::string>>;

// Reads every record of `text`; false when the reader stopped on an error.
bool read_all(const std::string& text, Records* records) {
  std::FILE* file = fmemopen(const_cast<char*>(text.data()), text.size(), "rb");
  if (file == nullptr) return false;  // fmemopen refuses a zero size on some libcs
  tl::replay::CsvReader csv(file);
  std::vector<std::string> fields;
  uint64_t previous_line = 0;
  while (csv.next(&fields)) {
    FUZZ_CHECK(!fields.empty() && fields.size() <= tl::replay::csv_fields_max);
    FUZZ_CHECK(csv.record_line() > previous_line);
    previous_line = csv.record_line();
    records->push_back(fields);
  }
  const bool clean = csv.error().empty();
  FUZZ_CHECK(clean || csv.error().starts_with("line "));
  std::fclose(file);
  return clean;
}

std::string written(const Records& records) {
  std::string out;
  for (const auto& record : records) {
    for (size_t i = 0; i < record.size(); ++i) {
      if (i > 0) out.push_back(',');
      tl::replay::append_csv_field(out, record[i]);
    }
    out.append(tl::replay::csv_line_end);
  }
  return out;
}

void check_statement(const std::string& text) {
  const int fd = memfd_create("statement", 0);
  if (fd < 0) return;
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    close(fd);
    return;
  }
  std::unique_ptr<tl::replay::StatementReader> reader;
  const tl::Status opened = tl::replay::StatementReader::open("/proc/self/fd/" + std::to_string(fd), &reader);
  if (opened.is_ok()) {
    tl::replay::StatementRow row;
    uint64_t previous_line = 0;
    while (reader->next(&row)) {
      FUZZ_CHECK(!row.reference.empty());
      FUZZ_CHECK(row.amount.amount >= 0);
      FUZZ_CHECK(row.line > previous_line);
      previous_line = row.line;
    }
    FUZZ_CHECK(reader->status().is_ok() || reader->status().message().find(": line ") != std::string::npos);
  } else {
    FUZZ_CHECK(!opened.message().empty());
  }
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  Records records;
  if (size > 0 && read_all(text, &records)) {
    const std::string again = written(records);
    // A first field that begins with 0xEF would be read back as a byte order mark (or refused
    // as a broken one): the reader looks at the file's first bytes before any field.
    if (!again.empty() && static_cast<unsigned char>(again[0]) != 0xEF) {
      Records reread;
      FUZZ_CHECK(read_all(again, &reread));
      FUZZ_CHECK(reread == records);
    }
  }
  check_statement(text);
  return 0;
}
