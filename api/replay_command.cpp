// `tutorledger replay verify|rebuild|history|state` (API.md, CLI): parses, then calls replay/.
#include <array>

#include "api/audit_cli_support.h"
#include "api/audit_commands.h"
#include "replay/exit_codes.h"
#include "replay/history.h"
#include "replay/rebuild.h"
#include "replay/state_document.h"
#include "replay/verify.h"

namespace tl::cli {
namespace {

constexpr std::string_view usage_text =
    "usage: tutorledger replay <subcommand> --data DIR [options]\n"
    "\n"
    "  verify  --data DIR [--digest POS:HASH]  check the hash chain, positions, stream versions,\n"
    "                                          encoding and the ledger invariants, and that the\n"
    "                                          event at POS still has HASH (a saved digest)\n"
    "  rebuild --data DIR                      rebuild the projections from the log and compare\n"
    "                                          them with the checkpoint\n"
    "  history --data DIR BOOKING_ID           one booking's events, readable\n"
    "  state   --data DIR [--at TIME]          bookings and balances as of TIME, as JSON (default:\n"
    "                                          now, or the last event's time when that is later,\n"
    "                                          as after a server's test clock moved ahead)\n"
    "\n"
    "The data folder is opened read-only (a RocksDB secondary), also while a server runs on it.\n"
    "TIME is RFC 3339, e.g. 2026-11-24T10:00:00Z. Exit: 0 clean, equal or done; 1 damage or a\n"
    "difference found; 2 usage error or a folder that is not a tutorledger database.\n";

constexpr std::array<OptionSpec, 2> verify_options = {{{"data", true}, {"digest", true}}};
constexpr std::array<OptionSpec, 1> data_only_options = {{{"data", true}}};
constexpr std::array<OptionSpec, 2> state_options = {{{"data", true}, {"at", true}}};

struct Parsed {
  ArgsResult result;
  std::string data_dir;
};

// Parses the options of a subcommand; false after reporting a usage error in *exit_code.
bool parse_subcommand(Args args, std::span<const OptionSpec> specs, size_t positionals, std::string_view command,
                      replay::Console& console, Parsed* parsed, int* exit_code) {
  parsed->result = parse_args(args, specs);
  std::string problem = parsed->result.error;
  if (problem.empty() && parsed->result.args.positionals().size() != positionals) {
    problem = positionals == 0 ? "unexpected argument '" + std::string(parsed->result.args.positionals().front()) + "'"
                               : "expects one BOOKING_ID";
  }
  if (problem.empty() && parsed->result.args.value("data").value_or("").empty()) problem = "--data DIR is required";
  if (!problem.empty()) {
    *exit_code = audit_usage_error(console, command, problem, usage_text);
    return false;
  }
  parsed->data_dir = std::string(*parsed->result.args.value("data"));
  return true;
}

}  // namespace

int run_replay_command(Args args, replay::Console& console, TimeMs now) {
  if (args.empty()) return audit_usage_error(console, "replay", "a subcommand is required", usage_text);
  const std::string_view subcommand = args[0];
  if (subcommand == "help" || asks_for_help(args)) {
    console.out.write(usage_text);
    return replay::exit_ok;
  }
  const Args rest = args.subspan(1);
  Parsed parsed;
  int exit_code = replay::exit_usage;
  if (subcommand == "verify") {
    if (!parse_subcommand(rest, verify_options, 0, "replay verify", console, &parsed, &exit_code)) return exit_code;
    std::optional<replay::LedgerDigest> digest;
    if (const auto text = parsed.result.args.value("digest")) {
      digest = replay::parse_ledger_digest(*text);
      if (!digest) {
        return audit_usage_error(console, "replay verify", "--digest must be POS:HASH (a position from 1, 64 hex digits)",
                                 usage_text);
      }
    }
    return replay::run_verify(parsed.data_dir, digest, console);
  }
  if (subcommand == "rebuild") {
    if (!parse_subcommand(rest, data_only_options, 0, "replay rebuild", console, &parsed, &exit_code)) return exit_code;
    return replay::run_rebuild(parsed.data_dir, console);
  }
  if (subcommand == "history") {
    if (!parse_subcommand(rest, data_only_options, 1, "replay history", console, &parsed, &exit_code)) return exit_code;
    return replay::run_history(parsed.data_dir, std::string(parsed.result.args.positionals()[0]), console);
  }
  if (subcommand == "state") {
    if (!parse_subcommand(rest, state_options, 0, "replay state", console, &parsed, &exit_code)) return exit_code;
    std::optional<TimeMs> at;
    std::string error;
    if (!read_at_option(parsed.result.args, &at, &error)) {
      return audit_usage_error(console, "replay state", error, usage_text);
    }
    return replay::run_state(parsed.data_dir, at, now, console);
  }
  return audit_usage_error(console, "replay", "unknown subcommand '" + std::string(subcommand) + "'", usage_text);
}

int replay(Args args) { return run_on_standard_streams(run_replay_command, args); }

}  // namespace tl::cli
