// The `tutorledger` binary: one entry point dispatching to its subcommands (API.md, CLI).
#include <cstdio>
#include <string_view>
#include <vector>

#include "api/cli.h"
#include "api/heap_tunables.h"
#include "engine/event_codec.h"
#include "projections/state_codec.h"

namespace {

constexpr std::string_view usage_text =
    "usage: tutorledger <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--data DIR] [--listen 127.0.0.1:8080] [--test-clock]   run the HTTP server\n"
    "  token --sub ID --role ROLE [--ttl SECONDS]                    print a signed JWT\n"
    "  replay verify|rebuild|history|state --data DIR ...            audit the log\n"
    "  export journal|trial-balance|escrow|payouts --data DIR ...    finance CSV exports\n"
    "  reconcile --data DIR --statement FILE.csv                      match a PSP statement\n"
    "  replica --nats URL --data DIR [--listen ...]                   read replica over NATS\n"
    "  --version                                                      the version and data formats\n"
    "\n"
    "tutorledger COMMAND --help lists a command's options.\n";

struct Subcommand {
  std::string_view name;
  int (*run)(tl::cli::Args);
  bool builds_projections;  // holds the whole state in memory: its heap is worth huge pages
};

constexpr Subcommand subcommands[] = {
    {"serve", tl::cli::serve, true},          {"token", tl::cli::token, false},
    {"replay", tl::cli::replay, true},        {"export", tl::cli::export_csv, true},
    {"reconcile", tl::cli::reconcile, true},  {"replica", tl::cli::replica, true},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(usage_text.data(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    // What an auditor records beside a report: the binary, and the formats it reads and writes.
    std::printf("tutorledger %s (event schema %d, state dump format %u)\n", TL_VERSION, tl::event_schema_current,
                tl::state_format_version);
    return 0;
  }
  for (const auto& subcommand : subcommands) {
    if (subcommand.name != args[0]) continue;
    if (subcommand.builds_projections) tl::cli::reexec_with_heap_tunables(argv);
    return subcommand.run(tl::cli::Args(args).subspan(1));
  }
  std::fprintf(stderr, "tutorledger: unknown command '%.*s'\n\n%s", static_cast<int>(args[0].size()),
               args[0].data(), usage_text.data());
  return 2;
}
