// `tutorledger export journal|trial-balance|escrow|payouts` (API.md, CLI): parses, then calls
// replay/export_run.h.
#include <array>

#include "api/audit_cli_support.h"
#include "api/audit_commands.h"
#include "replay/exit_codes.h"
#include "replay/export_run.h"

namespace tl::cli {
namespace {

constexpr std::string_view usage_text =
    "usage: tutorledger export <kind> --data DIR [options] [--output FILE]\n"
    "\n"
    "  journal       --data DIR [--from T] [--to T]   postings, two rows each:\n"
    "                position,at,booking,event_type,account,debit,credit,currency\n"
    "  trial-balance --data DIR [--at T]               account,currency,balance (credits - debits),\n"
    "                                                  then a TOTAL row per currency, which is 0\n"
    "  escrow        --data DIR [--at T]               escrow aging: booking,status,amount,currency,\n"
    "                                                  held_since,release_at,age_bucket\n"
    "  payouts       --data DIR [--from T] [--to T]   tutor,currency,released,fees,withdrawn,balance,\n"
    "                                                  withdrawing\n"
    "\n"
    "CSV as RFC 4180: CRLF line ends, a header row, amounts in minor units with a currency column.\n"
    "--from is inclusive and --to exclusive (consecutive periods neither overlap nor leave a gap);\n"
    "--at includes events at T and defaults to now, or to the last event's time when that is later;\n"
    "a T without a fraction means the end of its second (T.999).\n"
    "T is RFC 3339, e.g. 2026-11-24T10:00:00Z.\n"
    "Rolling forward: trial-balance --at 2026-10-31T23:59:59Z, plus journal --from 2026-11-01T00:00:00Z\n"
    "--to 2026-12-01T00:00:00Z, equals trial-balance --at 2026-11-30T23:59:59Z.\n"
    "--output FILE writes the file atomically (a temporary file, then a rename) instead of stdout\n"
    "(--output - is stdout); FILE must not be inside the data folder.\n"
    "Exit: 0 written; 1 damaged log or unwritable output; 2 usage error or not a tutorledger folder.\n";

constexpr std::array<OptionSpec, 4> range_options = {{{"data", true}, {"from", true}, {"to", true}, {"output", true}}};
constexpr std::array<OptionSpec, 3> at_options = {{{"data", true}, {"at", true}, {"output", true}}};

}  // namespace

int run_export_command(Args args, replay::Console& console, TimeMs now) {
  if (args.empty()) return audit_usage_error(console, "export", "a kind of export is required", usage_text);
  if (args[0] == "help" || asks_for_help(args)) {
    console.out.write(usage_text);
    return replay::exit_ok;
  }
  const std::optional<replay::ExportKind> kind = replay::parse_export_kind(args[0]);
  if (!kind) return audit_usage_error(console, "export", "unknown export '" + std::string(args[0]) + "'", usage_text);
  const std::string command = "export " + std::string(args[0]);
  const bool takes_range = replay::export_takes_range(*kind);
  const ArgsResult parsed = takes_range ? parse_args(args.subspan(1), range_options) : parse_args(args.subspan(1), at_options);
  if (!parsed.ok()) return audit_usage_error(console, command, parsed.error, usage_text);
  if (!parsed.args.positionals().empty()) {
    return audit_usage_error(console, command, "unexpected argument '" + std::string(parsed.args.positionals()[0]) + "'",
                             usage_text);
  }
  const std::optional<std::string_view> data = parsed.args.value("data");
  if (!data || data->empty()) return audit_usage_error(console, command, "--data DIR is required", usage_text);

  replay::ExportRequest request;
  request.kind = *kind;
  request.data_dir = std::string(*data);
  request.output_path = std::string(parsed.args.value("output").value_or(""));
  std::string error;
  std::optional<TimeMs> at;
  if (!read_time_option(parsed.args, "from", &request.range.from, &error) ||
      !read_time_option(parsed.args, "to", &request.range.to, &error) || !read_at_option(parsed.args, &at, &error)) {
    return audit_usage_error(console, command, error, usage_text);
  }
  if (request.range.from && request.range.to && *request.range.from > *request.range.to) {
    return audit_usage_error(console, command, "--from must not be after --to", usage_text);  // equal: an empty period
  }
  if (parsed.args.value("output") && parsed.args.value("output")->empty()) {
    return audit_usage_error(console, command, "--output needs a file name (or - for stdout)", usage_text);
  }
  if (request.output_path == "-") request.output_path.clear();  // the usual name for stdout
  request.at = at;
  request.now = now;
  return replay::run_export(request, console);
}

int export_csv(Args args) { return run_on_standard_streams(run_export_command, args); }

}  // namespace tl::cli
