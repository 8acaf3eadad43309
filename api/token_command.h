#pragma once
// `tutorledger token --sub ID --role ROLE [--ttl SECONDS]`: prints a JWT signed with env
// TL_JWT_SECRET (API.md, CLI). The work is in run_token_command, which takes its environment
// as arguments and writes into strings, so tests can call it directly.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/cli.h"

namespace tl::cli {

constexpr int64_t token_ttl_s_default = 3600;
constexpr int64_t token_ttl_s_min = 1;
constexpr int64_t token_ttl_s_max = 31536000;  // 365 days

struct TokenEnvironment {
  std::optional<std::string_view> jwt_secret;  // nullopt when TL_JWT_SECRET is unset or empty
  int64_t now_unix_s = 0;
};

// Exit code 0 with the token and a newline in `out` (or the usage for --help); 2 with a
// message in `err` on a usage error or a missing secret.
int run_token_command(Args args, const TokenEnvironment& environment, std::string& out, std::string& err);

}  // namespace tl::cli
