#include "replay/export_run.h"

#include <cassert>

#include <fmt/format.h>

#include "replay/atomic_file.h"
#include "replay/data_folder.h"
#include "replay/escrow_aging.h"
#include "replay/exit_codes.h"
#include "replay/journal_export.h"
#include "replay/payouts_export.h"
#include "replay/trial_balance.h"

namespace tl::replay {
namespace {

constexpr std::pair<ExportKind, std::string_view> kind_names[] = {
    {ExportKind::journal, "journal"},
    {ExportKind::trial_balance, "trial-balance"},
    {ExportKind::escrow, "escrow"},
    {ExportKind::payouts, "payouts"},
};

Finding run_kind(const ExportRequest& request, const LogStore& log, Progress& progress, TextSink& out) {
  const TimeMs at = at_or_latest(log, request.at, request.now);
  switch (request.kind) {
    case ExportKind::journal: return export_journal(log, request.range, progress, out);
    case ExportKind::trial_balance: return export_trial_balance(log, at, progress, out);
    case ExportKind::escrow: return export_escrow_aging(log, at, progress, out);
    case ExportKind::payouts: return export_payouts(log, request.range, progress, out);
  }
  assert(false);
  return Finding::none();
}

}  // namespace

std::optional<ExportKind> parse_export_kind(std::string_view name) {
  for (const auto& [kind, kind_name] : kind_names) {
    if (kind_name == name) return kind;
  }
  return std::nullopt;
}

std::string_view export_kind_name(ExportKind kind) {
  for (const auto& [candidate, name] : kind_names) {
    if (candidate == kind) return name;
  }
  return "unknown";
}

bool export_takes_range(ExportKind kind) { return kind == ExportKind::journal || kind == ExportKind::payouts; }

int run_export(const ExportRequest& request, Console& console) {
  const std::string command = fmt::format("export {}", export_kind_name(request.kind));
  // The ledger's folder holds its database and nothing else: a file there could be taken for one
  // of RocksDB's (an export named CURRENT would make the ledger unreadable).
  if (!request.output_path.empty() && is_inside_folder(request.output_path, request.data_dir)) {
    console.err.write(fmt::format("tutorledger {}: --output {} is inside the data folder {}: write the export elsewhere\n",
                                  command, request.output_path, request.data_dir));
    return exit_usage;
  }
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(request.data_dir, command, console, &log, &exit_code)) return exit_code;
  std::unique_ptr<AtomicFile> file;
  if (!request.output_path.empty()) {
    if (const Status created = AtomicFile::create(request.output_path, &file); !created.is_ok()) {
      console.err.write(fmt::format("tutorledger {}: {}\n", command, created.message()));
      return exit_failed;
    }
  }
  TextSink& out = file ? static_cast<TextSink&>(*file) : console.out;
  Progress progress(bar_while_writing(console, file != nullptr) ? &console.err : nullptr, export_kind_name(request.kind),
                    log->head().position);
  const Finding damage = run_kind(request, *log, progress, out);
  progress.finish();
  if (damage.found()) {
    console.err.write(fmt::format("tutorledger {}: damaged: position {}: {}\n", command, damage.position, damage.problem));
    return exit_failed;  // an output file is removed with its AtomicFile, the old one stays
  }
  Status written = out.status();
  if (written.is_ok() && file) written = file->commit();
  if (!written.is_ok()) {
    console.err.write(fmt::format("tutorledger {}: {}\n", command, written.message()));
    return exit_failed;
  }
  return exit_ok;
}

}  // namespace tl::replay
