#pragma once
// Subcommands of the `tutorledger` binary. Each takes the arguments after its own name and
// returns the process exit code: 0 success, 1 failure or damage found, 2 usage error.
#include <span>
#include <string_view>

namespace tl::cli {

using Args = std::span<const std::string_view>;

int serve(Args args);
int token(Args args);
int replay(Args args);
int export_csv(Args args);
int reconcile(Args args);
int replica(Args args);

}  // namespace tl::cli
