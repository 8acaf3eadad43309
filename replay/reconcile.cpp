#include "replay/reconcile.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "projections/json_text.h"
#include "replay/data_folder.h"
#include "replay/event_feed.h"
#include "replay/exit_codes.h"

namespace tl::replay {
namespace {

struct Capture {
  std::string tx_ref;
  Money amount;
  uint64_t position = 0;
  bool named = false;  // a statement row names its reference
};

// The first PaymentRejected of a reference: a charge the provider may have taken that the ledger
// refused (a second payment of a paid booking, a wrong amount). A statement row that lists it as
// successful is missing in the ledger, and this says why.
struct Refusal {
  uint64_t position = 0;
  std::string reason;
  std::string provider_amount;
  std::string provider_currency;
};

// References and tx_refs come from outside: print them bare when plain, else JSON-quoted.
std::string printable(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || c == '/';
  });
  if (plain) return std::string(text);
  std::string out;
  json::append_string(out, text);
  return out;
}

class Matcher {
 public:
  explicit Matcher(ReconcileReport& report) : report_(report) {}

  Finding load_captures(const LogStore& log, Progress& progress) {
    FeedLimits limits;
    limits.position_max = log.head().position;
    const FeedResult fed = feed_events(log, limits, progress, [this](const EventRecord& record, const Event& event) {
      if (const auto* captured = std::get_if<PaymentCaptured>(&event.data)) {
        const auto [placed, added] =
            captures_.try_emplace(captured->reference, Capture{captured->tx_ref, captured->amount, record.position, false});
        if (added) references_by_tx_ref_.try_emplace(captured->tx_ref, &placed->first);
      } else if (const auto* rejected = std::get_if<PaymentRejected>(&event.data)) {
        refusals_.try_emplace(rejected->reference, Refusal{record.position, rejected->reason, rejected->provider_amount,
                                                          rejected->provider_currency});
      }
      return true;
    });
    return fed.damage();
  }

  // Rows sharing a reference: the first successful one is the reference's row, or the first row
  // when none succeeded, whatever their order; every other row is a duplicate. So a successful row
  // is judged at once, and a row that failed waits for the end, in case one succeeds after it.
  void match(const StatementRow& row) {
    auto [found, first] = references_.try_emplace(row.reference, ReferenceRows{});
    ReferenceRows& rows = found->second;
    if (!first && (rows.successful_seen || !row.successful())) return note(Difference::duplicate_in_statement, row, nullptr);
    if (!row.successful()) {
      rows.unsuccessful = unsuccessful_rows_.size();
      unsuccessful_rows_.push_back(row);
      return;
    }
    // The failed row that waited for this one is the duplicate.
    if (!first) note(Difference::duplicate_in_statement, unsuccessful_rows_[rows.unsuccessful], nullptr);
    rows.successful_seen = true;
    judge_successful(row);
  }

  // A successful row, the only one of its reference judged against the ledger.
  void judge_successful(const StatementRow& row) {
    auto found = captures_.find(row.reference);
    if (found == captures_.end()) return unknown_references_.push_back(row);  // paired by tx_ref at the end, if at all
    Capture& capture = found->second;
    capture.named = true;
    if (!(row.amount.currency == capture.amount.currency)) return note(Difference::currency_mismatch, row, &capture);
    if (row.amount.amount != capture.amount.amount) return note(Difference::amount_mismatch, row, &capture);
    if (row.tx_ref != capture.tx_ref) return note(Difference::tx_ref_mismatch, row, &capture);
    ++report_.matched;
  }

  // A reference whose rows all failed: the ledger agrees when it never captured the payment.
  void judge_unsuccessful(const StatementRow& row) {
    auto found = captures_.find(row.reference);
    if (found == captures_.end()) {
      ++report_.failed_not_captured;
      return;
    }
    found->second.named = true;
    note(Difference::status_mismatch, row, &found->second);
  }

  // Rows under a reference the ledger does not know, paired by tx_ref with a capture no row named
  // and of the same amount and currency (the same payment under two references: a row of another
  // amount is another payment, missing in the ledger); then the captures no row named, in log order.
  void finish() {
    // First, so that a capture named only by a failed row is not paired by tx_ref below.
    for (const StatementRow& row : unsuccessful_rows_) {
      // A successful row of the reference came after it: it was noted as a duplicate then.
      if (!references_.find(row.reference)->second.successful_seen) judge_unsuccessful(row);
    }
    for (const StatementRow& row : unknown_references_) {
      Capture* capture = nullptr;
      if (auto by_tx_ref = references_by_tx_ref_.find(row.tx_ref); by_tx_ref != references_by_tx_ref_.end()) {
        Capture& candidate = captures_.find(*by_tx_ref->second)->second;
        if (!candidate.named && candidate.amount == row.amount) capture = &candidate;
      }
      if (capture == nullptr) {
        note(Difference::missing_in_ledger, row, nullptr, nullptr, refusal_of(row.reference));
        continue;
      }
      capture->named = true;
      note(Difference::reference_mismatch, row, capture, &*references_by_tx_ref_.find(row.tx_ref)->second);
    }
    std::vector<std::pair<const std::string*, const Capture*>> unnamed;
    for (const auto& [reference, capture] : captures_) {
      if (!capture.named) unnamed.emplace_back(&reference, &capture);
    }
    std::sort(unnamed.begin(), unnamed.end(), [](const auto& a, const auto& b) { return a.second->position < b.second->position; });
    for (const auto& [reference, capture] : unnamed) {
      add_line(Difference::missing_in_statement,
               fmt::format("missing in statement: reference {} tx_ref {}: ledger position {} captured {}",
                           printable(*reference), printable(capture->tx_ref), capture->position,
                           format_money(capture->amount)));
    }
  }

 private:
  const Refusal* refusal_of(const std::string& reference) const {
    const auto found = refusals_.find(reference);
    return found == refusals_.end() ? nullptr : &found->second;
  }

  void note(Difference kind, const StatementRow& row, const Capture* capture, const std::string* ledger_reference = nullptr,
            const Refusal* refusal = nullptr) {
    std::string line = fmt::format("{}: reference {} tx_ref {}: statement line {} has {} ({})", difference_name(kind),
                                   printable(row.reference), printable(row.tx_ref), row.line, format_money(row.amount),
                                   printable(row.status));
    if (capture != nullptr) {
      line += fmt::format(", ledger position {} captured {} with tx_ref {}", capture->position,
                          format_money(capture->amount), printable(capture->tx_ref));
    }
    if (ledger_reference != nullptr) line += fmt::format(" under reference {}", printable(*ledger_reference));
    if (refusal != nullptr) {
      line += fmt::format(", ledger position {} rejected it ({})", refusal->position, printable(refusal->reason));
      // Events of schema 1 did not record what the provider reported.
      if (!refusal->provider_amount.empty() || !refusal->provider_currency.empty()) {
        line += fmt::format(" as {} {}", printable(refusal->provider_amount), printable(refusal->provider_currency));
      }
    }
    add_line(kind, std::move(line));
  }

  void add_line(Difference kind, std::string line) {
    ++report_.counts[static_cast<size_t>(kind)];
    if (report_.lines.size() < reconcile_difference_lines_max) {
      report_.lines.push_back(std::move(line));
    } else {
      ++report_.lines_left_out;
    }
  }

  ReconcileReport& report_;
  StringMap<Capture> captures_;
  StringMap<const std::string*> references_by_tx_ref_;  // tx_ref -> the key of its first capture
  std::vector<StatementRow> unknown_references_;
  StringMap<Refusal> refusals_;  // reference -> its first rejection
  struct ReferenceRows {
    bool successful_seen = false;
    size_t unsuccessful = 0;  // index into unsuccessful_rows_ of the row that waits, if not successful_seen
  };
  StringMap<ReferenceRows> references_;          // every reference of the statement so far
  std::vector<StatementRow> unsuccessful_rows_;  // a reference's first row, when it failed, in line order
};

}  // namespace

std::string_view difference_name(Difference kind) {
  switch (kind) {
    case Difference::missing_in_ledger: return "missing in ledger";
    case Difference::missing_in_statement: return "missing in statement";
    case Difference::currency_mismatch: return "currency mismatch";
    case Difference::amount_mismatch: return "amount mismatch";
    case Difference::tx_ref_mismatch: return "tx_ref mismatch";
    case Difference::status_mismatch: return "status mismatch";
    case Difference::duplicate_in_statement: return "duplicate in statement";
    case Difference::reference_mismatch: return "reference mismatch";
  }
  return "difference";
}

bool ReconcileReport::all_match() const {
  return std::all_of(std::begin(counts), std::end(counts), [](uint64_t count) { return count == 0; });
}

Finding reconcile(const LogStore& log, StatementReader& statement, Progress& progress, ReconcileReport* report) {
  assert(report != nullptr);
  Matcher matcher(*report);
  if (Finding damage = matcher.load_captures(log, progress); damage.found()) return damage;
  StatementRow row;
  while (statement.next(&row)) matcher.match(row);
  if (statement.status().is_ok()) matcher.finish();
  return Finding::none();
}

void write_reconcile_report(const ReconcileReport& report, TextSink& out) {
  std::string text = fmt::format("matched: {}\n", report.matched);
  // The contract's four first, then the rest.
  constexpr Difference order[] = {Difference::missing_in_ledger,  Difference::missing_in_statement,
                                  Difference::amount_mismatch,    Difference::currency_mismatch,
                                  Difference::reference_mismatch, Difference::tx_ref_mismatch,
                                  Difference::status_mismatch,    Difference::duplicate_in_statement};
  static_assert(std::size(order) == difference_kinds);
  for (const Difference kind : order) {
    text += fmt::format("{}: {}\n", difference_name(kind), report.counts[static_cast<size_t>(kind)]);
  }
  text += fmt::format("failed, not captured: {}\n", report.failed_not_captured);
  out.write(text);
  BufferedWriter writer(out);
  for (const std::string& line : report.lines) {
    writer.buffer() += line;
    writer.buffer() += '\n';
    writer.done_appending();
  }
  if (report.lines_left_out > 0) writer.write(fmt::format("... and {} more differences\n", report.lines_left_out));
}

int run_reconcile(const std::string& data_dir, const std::string& statement_path, Console& console) {
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(data_dir, "reconcile", console, &log, &exit_code)) return exit_code;
  std::unique_ptr<StatementReader> statement;
  if (const Status opened = StatementReader::open(statement_path, &statement); !opened.is_ok()) {
    console.err.write(fmt::format("tutorledger reconcile: unreadable statement: {}\n", opened.message()));
    return exit_failed;  // API.md: exit 0 only when all match, 1 otherwise
  }
  Progress progress(console.progress_bar ? &console.err : nullptr, "reconcile", log->head().position);
  ReconcileReport report;
  const Finding damage = reconcile(*log, *statement, progress, &report);
  progress.finish();
  if (damage.found()) {
    console.err.write(fmt::format("tutorledger reconcile: damaged: position {}: {}\n", damage.position, damage.problem));
    return exit_failed;
  }
  if (!statement->status().is_ok()) {
    console.err.write(fmt::format("tutorledger reconcile: unreadable statement: {}\n", statement->status().message()));
    return exit_failed;
  }
  write_reconcile_report(report, console.out);
  return report.all_match() ? exit_ok : exit_failed;
}

}  // namespace tl::replay
