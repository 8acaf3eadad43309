// The real `tutorledger` binary (env TL_TUTORLEDGER_BIN, set by CTest) for the audit commands'
// exit codes and streams: 0 clean, 1 damage, 2 usage; products on stdout, no progress bar off a
// terminal.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "engine/log_keys.h"
#include "projections/state_codec.h"
#include "support/golden.h"
#include "support/seed_ledger.h"

using namespace tl;
using namespace tl::test;

namespace {

struct Ran {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs the binary with `args` (no shell quoting needed: the tests use plain paths and words).
Ran run_binary(const std::string& args) {
  const char* binary = std::getenv("TL_TUTORLEDGER_BIN");
  REQUIRE_MESSAGE(binary != nullptr, "TL_TUTORLEDGER_BIN is not set (run through ctest)");
  logtest::TempFolder folder;
  const std::string command = fmt::format("{} {} > {} 2> {}", binary, args, folder.sub("out"), folder.sub("err"));
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  return Ran{WEXITSTATUS(status), read_file(folder.sub("out")), read_file(folder.sub("err"))};
}

}  // namespace

TEST_CASE("BinaryExitCodesAreZeroCleanOneDamagedTwoUsage") {
  EngineFixture f;
  run_seed_journeys(f);
  const std::string dir = f.options.data_dir;

  const Ran clean = run_binary("replay verify --data " + dir);
  CHECK(clean.exit_code == 0);
  CHECK(clean.out.starts_with("clean: "));
  CHECK(clean.err.empty());  // no progress bar off a terminal

  const Ran balance = run_binary(fmt::format("export trial-balance --data {} --at {}", dir, format_rfc3339(seed_end)));
  CHECK(balance.exit_code == 0);
  check_golden("trial_balance.csv", balance.out);

  const Ran unknown = run_binary("replay bogus --data " + dir);
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("usage: tutorledger replay") != std::string::npos);
  CHECK(run_binary("replay verify --data " + dir + "/missing").exit_code == 2);
  CHECK(run_binary("export journal --data " + dir + " --from tomorrow").exit_code == 2);

  {
    logtest::RawDb raw(dir);
    raw.erase(log_keys::event_key(7));
  }
  const Ran damaged = run_binary("replay verify --data " + dir);
  CHECK(damaged.exit_code == 1);
  CHECK(damaged.out == "damaged: position 7: gap: expected position 7, found 8\n");
}

TEST_CASE("VersionNamesTheBinaryAndTheFormatsItReadsAndWrites") {
  const Ran version = run_binary("--version");
  CHECK(version.exit_code == 0);
  CHECK(version.out == fmt::format("tutorledger 0.1.0 (event schema {}, state dump format {})\n", event_schema_current,
                                   state_format_version));
}
