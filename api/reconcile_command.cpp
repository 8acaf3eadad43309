// `tutorledger reconcile --data DIR --statement FILE.csv` (API.md, CLI): parses, then calls
// replay/reconcile.h.
#include <array>

#include "api/audit_cli_support.h"
#include "api/audit_commands.h"
#include "replay/exit_codes.h"
#include "replay/reconcile.h"

namespace tl::cli {
namespace {

constexpr std::string_view usage_text =
    "usage: tutorledger reconcile --data DIR --statement FILE.csv\n"
    "\n"
    "Matches a payment provider's statement against the payments the ledger captured.\n"
    "The statement is CSV with a header row naming reference,tx_ref,amount,currency,status,at;\n"
    "amounts are decimal strings (\"350.00\"), times RFC 3339. Prints the counts (matched, missing\n"
    "in ledger, missing in statement, amount mismatch, currency mismatch, ...), then one line per\n"
    "difference naming its reference and tx_ref.\n"
    "Exit: 0 all match; 1 a difference, an unreadable statement (the malformed line is named) or a\n"
    "damaged log; 2 usage error or a folder that is not a tutorledger database.\n";

constexpr std::array<OptionSpec, 2> options = {{{"data", true}, {"statement", true}}};

int run_with_clock(Args args, replay::Console& console, TimeMs) { return run_reconcile_command(args, console); }

}  // namespace

int run_reconcile_command(Args args, replay::Console& console) {
  if ((!args.empty() && args[0] == "help") || asks_for_help(args)) {
    console.out.write(usage_text);
    return replay::exit_ok;
  }
  const ArgsResult parsed = parse_args(args, options);
  if (!parsed.ok()) return audit_usage_error(console, "reconcile", parsed.error, usage_text);
  if (!parsed.args.positionals().empty()) {
    return audit_usage_error(console, "reconcile", "unexpected argument '" + std::string(parsed.args.positionals()[0]) + "'",
                             usage_text);
  }
  const std::optional<std::string_view> data = parsed.args.value("data");
  const std::optional<std::string_view> statement = parsed.args.value("statement");
  if (!data || data->empty()) return audit_usage_error(console, "reconcile", "--data DIR is required", usage_text);
  if (!statement || statement->empty()) return audit_usage_error(console, "reconcile", "--statement FILE.csv is required", usage_text);
  return replay::run_reconcile(std::string(*data), std::string(*statement), console);
}

int reconcile(Args args) { return run_on_standard_streams(run_with_clock, args); }

}  // namespace tl::cli
