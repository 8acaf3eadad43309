#pragma once
// A payment provider's statement (CSV, replay/csv_reader.h) with a header row naming at least
// the columns reference,tx_ref,amount,currency,status,at in any order and any case, spaces
// around the names allowed (other columns are ignored). Spaces and tabs around the values are
// dropped too, except around a quoted reference or tx_ref: those are identifiers, and a quoted
// one is compared exactly as written (a provider may have sent " ref-1 " to the webhook).
// Amounts are decimal strings parsed exactly in the row's currency ("350.00" ETB → 35000);
// `at` is RFC 3339. A row that breaks any of this makes the statement unreadable, and the
// error names its line. Blank lines are skipped.
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "projections/money.h"
#include "projections/time.h"
#include "replay/csv_reader.h"

namespace tl::replay {

struct StatementRow {
  uint64_t line = 0;  // where the row starts in the file, from 1
  std::string reference;
  std::string tx_ref;
  Money amount;
  std::string status;
  TimeMs at = 0;
  // The provider's word for a captured charge ("success", any case).
  bool successful() const;
};

class StatementReader {
 public:
  // Opens the file and reads its header. invalid_argument names the problem and its line.
  static Status open(const std::string& path, std::unique_ptr<StatementReader>* out);
  ~StatementReader();
  StatementReader(const StatementReader&) = delete;
  StatementReader& operator=(const StatementReader&) = delete;

  // The next row; false at the end or on an error (then status() says which line is malformed).
  bool next(StatementRow* row);
  const Status& status() const { return status_; }

 private:
  enum Column { column_reference, column_tx_ref, column_amount, column_currency, column_status, column_at, column_count };
  static constexpr std::array<std::string_view, column_count> column_names = {"reference", "tx_ref", "amount",
                                                                              "currency",  "status", "at"};
  StatementReader(std::FILE* file, std::string path) : file_(file), path_(std::move(path)), csv_(file) {}
  Status read_header();
  bool malformed(uint64_t line, std::string_view what);

  std::FILE* file_;
  std::string path_;
  CsvReader csv_;
  std::array<size_t, column_count> index_{};  // field index of each column
  size_t header_fields_ = 0;
  std::vector<std::string> fields_;
  Status status_;
};

}  // namespace tl::replay
