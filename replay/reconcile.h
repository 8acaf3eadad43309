#pragma once
// `reconcile --statement FILE.csv`: the provider's statement (replay/statement.h) against the
// payments the ledger captured (PaymentCaptured events), matched by provider reference, then
// compared on currency, amount and tx_ref, in that order of precedence. A successful row whose
// reference the ledger does not know is then paired by tx_ref with a capture no row named.
//   matched                a successful row and a capture agree on all of them
//   missing in ledger      a successful row whose reference and tx_ref match no capture
//   missing in statement   a capture no row names (by reference or by tx_ref)
//   reference mismatch     a successful row and a capture paired by tx_ref, under two references
//   currency mismatch      same reference, another currency
//   amount mismatch        same reference and currency, another amount
//   tx_ref mismatch        same reference, currency and amount, another tx_ref
//   status mismatch        a reference whose rows all failed, for a payment the ledger captured
//   duplicate in statement every row of a reference but the one judged
// Of the rows sharing a reference, the first successful one is judged, or the first row when none
// succeeded: the verdict does not depend on the order of the rows. Rows that are not "success"
// and that the ledger never captured agree with it (counted as "failed, not captured"). The
// ledger's captures are held in memory (one per booking paid); the statement is streamed (its
// rows unknown to the ledger, and its failed rows, wait for the end).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/log_store.h"
#include "replay/console.h"
#include "replay/progress.h"
#include "replay/state_replay.h"
#include "replay/statement.h"

namespace tl::replay {

// Difference lines kept for printing; the counts stay exact beyond it.
constexpr size_t reconcile_difference_lines_max = 10'000;

enum class Difference { missing_in_ledger, missing_in_statement, currency_mismatch, amount_mismatch, tx_ref_mismatch,
                        status_mismatch, duplicate_in_statement, reference_mismatch };
constexpr size_t difference_kinds = 8;
std::string_view difference_name(Difference kind);

struct ReconcileReport {
  uint64_t matched = 0;
  uint64_t failed_not_captured = 0;
  uint64_t counts[difference_kinds] = {};
  std::vector<std::string> lines;  // one per difference, at most reconcile_difference_lines_max
  uint64_t lines_left_out = 0;
  bool all_match() const;
};

// Reads the captures from `log` and matches `statement` against them. A damaged log is a
// Finding; a malformed statement row ends the run with statement.status() not ok.
Finding reconcile(const LogStore& log, StatementReader& statement, Progress& progress, ReconcileReport* report);

void write_reconcile_report(const ReconcileReport& report, TextSink& out);

// Exit 0 when everything matches, 1 on any difference or a damaged log, 2 for a data folder that
// cannot be opened or an unreadable statement (naming the malformed line).
int run_reconcile(const std::string& data_dir, const std::string& statement_path, Console& console);

}  // namespace tl::replay
