#include "replay/statement.h"

#include <cassert>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "projections/ascii_text.h"
#include "projections/json_text.h"

namespace tl::replay {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  json::append_string(out, text.substr(0, 64));
  return out;
}

}  // namespace

bool StatementRow::successful() const { return ascii::equals_ignoring_case(status, "success"); }

Status StatementReader::open(const std::string& path, std::unique_ptr<StatementReader>* out) {
  assert(out != nullptr);
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Status::invalid_argument(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::unique_ptr<StatementReader> reader(new StatementReader(file, path));
  if (Status header = reader->read_header(); !header.is_ok()) return header;
  *out = std::move(reader);
  return Status::ok();
}

StatementReader::~StatementReader() { std::fclose(file_); }

Status StatementReader::read_header() {
  if (!csv_.next(&fields_)) {
    return Status::invalid_argument(csv_.error().empty() ? fmt::format("{} is empty: it has no header row", path_)
                                                         : fmt::format("{}: {}", path_, csv_.error()));
  }
  header_fields_ = fields_.size();
  for (size_t column = 0; column < column_count; ++column) {
    size_t found = header_fields_;
    for (size_t i = 0; i < header_fields_; ++i) {
      if (!ascii::equals_ignoring_case(ascii::trim_blanks(fields_[i]), column_names[column])) continue;
      if (found != header_fields_) {
        // Which of the two is the provider's amount? Guessing would report differences that are not.
        return Status::invalid_argument(fmt::format("{}: line {}: the header has column {} twice", path_,
                                                    csv_.record_line(), column_names[column]));
      }
      found = i;
    }
    if (found == header_fields_) {
      return Status::invalid_argument(fmt::format("{}: line {}: the header has no column {}", path_, csv_.record_line(),
                                                  column_names[column]));
    }
    index_[column] = found;
  }
  return Status::ok();
}

bool StatementReader::malformed(uint64_t line, std::string_view what) {
  status_ = Status::invalid_argument(fmt::format("{}: line {}: {}", path_, line, what));
  return false;
}

bool StatementReader::next(StatementRow* row) {
  assert(row != nullptr);
  for (;;) {
    if (!csv_.next(&fields_)) {
      if (!csv_.error().empty()) status_ = Status::invalid_argument(fmt::format("{}: {}", path_, csv_.error()));
      return false;
    }
    if (fields_.size() == 1 && fields_[0].empty()) continue;  // a blank line
    break;
  }
  const uint64_t line = csv_.record_line();
  if (fields_.size() != header_fields_) {
    return malformed(line, fmt::format("{} fields where the header has {}", fields_.size(), header_fields_));
  }
  row->line = line;
  // Spaces after the commas (", 350.00") are layout, as in the header. An identifier in quotes is
  // taken as written: the quotes say its spaces are part of it.
  const auto value = [&](size_t column) { return ascii::trim_blanks(fields_[index_[column]]); };
  const auto identifier = [&](size_t column) {
    const size_t field = index_[column];
    return csv_.quoted(field) ? std::string_view(fields_[field]) : ascii::trim_blanks(fields_[field]);
  };
  row->reference = identifier(column_reference);
  row->tx_ref = identifier(column_tx_ref);
  row->status = value(column_status);
  if (row->reference.empty()) return malformed(line, "the reference is empty");
  const std::string_view currency_text = value(column_currency);
  const std::optional<Currency> parsed_currency = Currency::parse(currency_text);
  if (!parsed_currency) return malformed(line, fmt::format("currency {} is not an ISO 4217 code", quoted(currency_text)));
  const std::string_view amount_text = value(column_amount);
  const std::optional<int64_t> parsed_amount = parse_decimal_amount(amount_text, *parsed_currency);
  if (!parsed_amount && amount_text.starts_with('-')) {
    return malformed(line, fmt::format("amount {} is negative: reconcile matches captured payments only, so leave "
                                       "refunds and chargebacks out of the statement",
                                       quoted(amount_text)));
  }
  if (!parsed_amount) {
    return malformed(line, fmt::format("amount {} is not a decimal {} amount (digits, at most {} after the point)",
                                       quoted(amount_text), currency_text, parsed_currency->minor_unit_digits()));
  }
  row->amount = Money{*parsed_amount, *parsed_currency};
  // Only reported, never matched on: a provider's microseconds are no reason to refuse the statement.
  const std::optional<TimeMs> parsed_at = parse_rfc3339_dropping_sub_millis(value(column_at));
  if (!parsed_at) return malformed(line, fmt::format("at {} is not an RFC 3339 time", quoted(value(column_at))));
  row->at = *parsed_at;
  return true;
}

}  // namespace tl::replay
