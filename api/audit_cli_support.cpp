#include "api/audit_cli_support.h"

#include <algorithm>

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "api/interrupt_cleanup.h"
#include "engine/clock.h"
#include "replay/exit_codes.h"

namespace tl::cli {

int audit_usage_error(replay::Console& console, std::string_view command, std::string_view message,
                      std::string_view usage) {
  console.err.write(fmt::format("tutorledger {}: {}\n\n{}", command, message, usage));
  return replay::exit_usage;
}

bool asks_for_help(Args args) {
  return std::any_of(args.begin(), args.end(), [](std::string_view arg) { return arg == "--help" || arg == "-h"; });
}

bool read_time_option(const ParsedArgs& args, std::string_view name, std::optional<TimeMs>* out, std::string* error) {
  const std::optional<std::string_view> text = args.value(name);
  if (!text) return true;
  const std::optional<TimeMs> at = parse_rfc3339(*text);
  if (!at && parse_rfc3339_dropping_sub_millis(*text)) {
    // Events are stamped in milliseconds: rounding the bound either way would move it past some.
    *error = fmt::format("--{} \"{}\" is finer than a millisecond, which the ledger does not record: give at most 3 "
                         "fraction digits",
                         name, *text);
    return false;
  }
  if (!at) {
    *error = fmt::format("--{} \"{}\" is not an RFC 3339 time from 1970 to 9999, e.g. 2026-11-24T10:00:00Z", name, *text);
    return false;
  }
  *out = *at;
  return true;
}

bool read_at_option(const ParsedArgs& args, std::optional<TimeMs>* out, std::string* error) {
  if (!read_time_option(args, "at", out, error)) return false;
  const bool whole_second = *out && args.value("at")->find('.') == std::string_view::npos;
  if (whole_second && **out <= time_ms_max - (ms_per_second - 1)) **out += ms_per_second - 1;
  return true;
}

int run_on_standard_streams(int (*run)(Args, replay::Console&, TimeMs), Args args) {
  replay::FileSink out(stdout, &end_by_closed_pipe);
  replay::FileSink err(stderr);
  replay::Console console{out, err, isatty(fileno(stderr)) == 1, isatty(fileno(stdout)) == 1};
  install_interrupt_cleanup(console.progress_bar);
  int exit_code = run(args, console, SystemClock().now());
  const bool flushed = std::fflush(stdout) == 0;
  if (!flushed && errno == EPIPE) end_by_closed_pipe();
  if (exit_code == replay::exit_ok && (!flushed || !out.status().is_ok())) {
    std::fprintf(stderr, "tutorledger: writing to stdout failed\n");
    exit_code = replay::exit_failed;
  }
  return exit_code;
}

}  // namespace tl::cli
