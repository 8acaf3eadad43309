#include "support/audit_cli_runner.h"

#include <string_view>

#include "api/audit_commands.h"

namespace tl::test {
namespace {

template <class Run>
CliRun capture(const std::vector<std::string>& args, Run run) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  replay::StringSink out;
  replay::StringSink err;
  replay::Console console{out, err, false};
  CliRun result;
  result.exit_code = run(cli::Args(views), console);
  result.out = out.text();
  result.err = err.text();
  return result;
}

}  // namespace

CliRun run_replay(std::vector<std::string> args, TimeMs now) {
  return capture(args, [now](cli::Args a, replay::Console& c) { return cli::run_replay_command(a, c, now); });
}

CliRun run_export(std::vector<std::string> args, TimeMs now) {
  return capture(args, [now](cli::Args a, replay::Console& c) { return cli::run_export_command(a, c, now); });
}

CliRun run_reconcile(std::vector<std::string> args) {
  return capture(args, [](cli::Args a, replay::Console& c) { return cli::run_reconcile_command(a, c); });
}

}  // namespace tl::test
