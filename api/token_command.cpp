#include "api/token_command.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "api/cli_args.h"
#include "api/jwt.h"

namespace tl::cli {
namespace {

constexpr std::string_view usage_text =
    "usage: tutorledger token --sub ID --role ROLE [--ttl SECONDS]\n"
    "\n"
    "Prints a JWT (HS256) signed with env TL_JWT_SECRET, then a newline.\n"
    "  --sub ID        user id: 1-64 characters of [A-Za-z0-9_-]\n"
    "  --role ROLE     student, tutor or admin\n"
    "  --ttl SECONDS   lifetime, 1..31536000 (default 3600)\n";

constexpr std::array<OptionSpec, 4> option_specs = {{
    {"sub", true},
    {"role", true},
    {"ttl", true},
    {"help", false},
}};

int usage_error(std::string& err, std::string_view message) {
  err += "tutorledger token: ";
  err += message;
  err += "\nusage: tutorledger token --sub ID --role ROLE [--ttl SECONDS]\n";
  return 2;
}


}  // namespace

int run_token_command(Args args, const TokenEnvironment& environment, std::string& out, std::string& err) {
  const ArgsResult parsed = parse_args(args, option_specs);
  if (!parsed.ok()) return usage_error(err, parsed.error);
  if (parsed.args.has("help")) {
    out += usage_text;
    return 0;
  }
  if (!parsed.args.positionals().empty()) {
    return usage_error(err, "unexpected argument '" + std::string(parsed.args.positionals().front()) + "'");
  }
  const auto sub = parsed.args.value("sub");
  const auto role_name = parsed.args.value("role");
  if (!sub) return usage_error(err, "--sub is required");
  if (!role_name) return usage_error(err, "--role is required");
  if (!is_valid_jwt_subject(*sub)) return usage_error(err, "--sub must be 1-64 characters of [A-Za-z0-9_-]");
  const auto role = parse_jwt_role(*role_name);
  if (!role) return usage_error(err, "--role must be student, tutor or admin");
  int64_t ttl_s = token_ttl_s_default;
  if (const auto ttl_text = parsed.args.value("ttl")) {
    const auto ttl = parse_whole_number(*ttl_text, token_ttl_s_min, token_ttl_s_max);
    if (!ttl) return usage_error(err, "--ttl must be a whole number of seconds from 1 to 31536000");
    ttl_s = *ttl;
  }
  if (!environment.jwt_secret || environment.jwt_secret->empty()) {
    err += "tutorledger token: TL_JWT_SECRET is not set; export the server's secret\n";
    return 2;
  }
  const JwtClaims claims{.sub = std::string(*sub), .role = *role, .exp = environment.now_unix_s + ttl_s};
  out += sign_jwt(claims, *environment.jwt_secret);
  out += '\n';
  assert(claims.exp > environment.now_unix_s);
  return 0;
}

int token(Args args) {
  TokenEnvironment environment;
  const char* secret = std::getenv("TL_JWT_SECRET");
  if (secret != nullptr && *secret != '\0') environment.jwt_secret = secret;
  environment.now_unix_s = static_cast<int64_t>(std::time(nullptr));
  std::string out;
  std::string err;
  int exit_code = run_token_command(args, environment, out, err);
  const bool written = std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
  if (!written && exit_code == 0) {  // a script reading the token must not take "nothing" for success
    err += "tutorledger token: writing to stdout failed\n";
    exit_code = 1;
  }
  std::fwrite(err.data(), 1, err.size(), stderr);
  return exit_code;
}

}  // namespace tl::cli
