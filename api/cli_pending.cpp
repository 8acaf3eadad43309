// Subcommands whose issues have not landed yet. Each moves to its own file when it is built.
#include <cstdio>

#include "api/cli.h"

namespace tl::cli {

int not_built_yet(std::string_view command) {
  std::fprintf(stderr, "tutorledger: '%.*s' is not built yet\n", static_cast<int>(command.size()), command.data());
  return 2;
}

int replay(Args) { return not_built_yet("replay"); }
int export_csv(Args) { return not_built_yet("export"); }
int reconcile(Args) { return not_built_yet("reconcile"); }

}  // namespace tl::cli
