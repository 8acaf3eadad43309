#pragma once
// Runs the audit subcommands (api/audit_commands.h) in the test process, capturing what they
// write, as the binary would print it.
#include <string>
#include <vector>

#include "projections/time.h"

namespace tl::test {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `args` are what follows the subcommand name: {"verify", "--data", dir}.
CliRun run_replay(std::vector<std::string> args, TimeMs now = 0);
CliRun run_export(std::vector<std::string> args, TimeMs now = 0);
CliRun run_reconcile(std::vector<std::string> args);

}  // namespace tl::test
