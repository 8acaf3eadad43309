#pragma once
// `export journal|trial-balance|escrow|payouts`: opens the data folder as a secondary, runs one
// export to stdout or, with an output path, to a file written atomically (replay/atomic_file.h).
// CSV conventions: replay/csv_writer.h. Column meanings: the header of each export.
#include <optional>
#include <string>
#include <string_view>

#include "replay/console.h"
#include "replay/time_range.h"

namespace tl::replay {

enum class ExportKind { journal, trial_balance, escrow, payouts };

// "journal", "trial-balance", "escrow", "payouts"
std::optional<ExportKind> parse_export_kind(std::string_view name);
std::string_view export_kind_name(ExportKind kind);
// Whether the export takes --from/--to (journal, payouts) or --at (trial-balance, escrow).
bool export_takes_range(ExportKind kind);

struct ExportRequest {
  ExportKind kind = ExportKind::journal;
  std::string data_dir;
  TimeRange range;           // journal, payouts
  std::optional<TimeMs> at;  // trial-balance, escrow: inclusive; default at_or_latest(now)
  TimeMs now = 0;            // the wall clock when the command started
  std::string output_path;   // empty: console.out
};

// Exit 0 when written; 1 when the log is damaged or the output cannot be written (an output
// file is then left as it was); 2 when the data folder cannot be opened as a log.
int run_export(const ExportRequest& request, Console& console);

}  // namespace tl::replay
