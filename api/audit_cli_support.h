#pragma once
// Small pieces shared by the audit subcommands' argument parsing (api/audit_commands.h).
#include <optional>
#include <string>
#include <string_view>

#include "api/cli_args.h"
#include "projections/time.h"
#include "replay/console.h"

namespace tl::cli {

// Writes "tutorledger <command>: <message>" and the usage to err; returns 2.
int audit_usage_error(replay::Console& console, std::string_view command, std::string_view message,
                      std::string_view usage);

// True when any argument asks for help (--help, -h): the command then prints its usage, exit 0.
bool asks_for_help(Args args);

// Reads an optional RFC 3339 option. False (and a message in *error) when given but malformed.
bool read_time_option(const ParsedArgs& args, std::string_view name, std::optional<TimeMs>* out, std::string* error);

// Reads `--at T`, the instant a state or a balance is taken at, which includes the events at T.
// The HTTP API shows whole seconds while the real clock stamps events in milliseconds, so a T
// without a fraction of a second means the end of its second (T.999): an event the API shows at
// 10:00:07 happened at or before `--at 10:00:07Z`.
bool read_at_option(const ParsedArgs& args, std::optional<TimeMs>* out, std::string* error);

// Runs a subcommand against stdout and stderr: a progress bar only when stderr is a terminal;
// a failed write to stdout (a closed pipe, a full disk) turns success into exit 1.
int run_on_standard_streams(int (*run)(Args, replay::Console&, TimeMs), Args args);

}  // namespace tl::cli
