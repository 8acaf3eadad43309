#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "api/jwt.h"
#include "api/token_command.h"

using namespace tl;
using namespace tl::cli;

namespace {

constexpr std::string_view secret = "cli-test-secret";
constexpr int64_t now = 1'800'000'000;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run run(std::vector<std::string_view> args, std::optional<std::string_view> jwt_secret = secret) {
  Run result;
  result.exit_code = run_token_command(Args(args), TokenEnvironment{jwt_secret, now}, result.out, result.err);
  return result;
}

JwtClaims claims_of(const Run& result) {
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.err.empty());
  REQUIRE(result.out.ends_with('\n'));
  const JwtResult verified = verify_jwt(result.out.substr(0, result.out.size() - 1), secret, now);
  REQUIRE(verified.ok());
  return verified.claims();
}

void check_usage_error(const Run& result, std::string_view message) {
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err.find(message) != std::string::npos);
}

}  // namespace

TEST_CASE("TokenIsSignedWithTheSecretAndLastsAnHourByDefault") {
  CHECK(claims_of(run({"--sub", "s1", "--role", "student"})) ==
        JwtClaims{.sub = "s1", .role = JwtRole::student, .exp = now + 3600});
}

TEST_CASE("TtlAndEqualsFormsAreHonoured") {
  CHECK(claims_of(run({"--sub=t_9", "--role=tutor", "--ttl=60"})) ==
        JwtClaims{.sub = "t_9", .role = JwtRole::tutor, .exp = now + 60});
  CHECK(claims_of(run({"--ttl", "31536000", "--role", "admin", "--sub", "root-1"})).exp == now + 31536000);
  CHECK(claims_of(run({"--sub", "a", "--role", "admin", "--ttl", "1"})).exp == now + 1);
}

TEST_CASE("HelpPrintsUsageAndSucceeds") {
  const Run result = run({"--help"}, std::nullopt);
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out.starts_with("usage: tutorledger token --sub ID --role ROLE [--ttl SECONDS]\n"));
}

TEST_CASE("MissingSecretIsAnErrorNamingTheVariable") {
  for (const std::optional<std::string_view> missing :
       {std::optional<std::string_view>(), std::optional<std::string_view>("")}) {
    const Run result = run({"--sub", "s1", "--role", "student"}, missing);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(result.err == "tutorledger token: TL_JWT_SECRET is not set; export the server's secret\n");
  }
}

TEST_CASE("MissingOrInvalidFlagsAreUsageErrors") {
  check_usage_error(run({"--role", "student"}), "--sub is required");
  check_usage_error(run({"--sub", "s1"}), "--role is required");
  check_usage_error(run({}), "--sub is required");
  check_usage_error(run({"--sub", "s1", "--role"}), "option '--role' needs a value");
  check_usage_error(run({"--sub", "s1", "--role", "student", "--verbose"}), "unknown option '--verbose'");
  check_usage_error(run({"--sub", "s1", "--role", "student", "extra"}), "unexpected argument 'extra'");
  check_usage_error(run({"--sub", "s1", "--sub", "s2", "--role", "student"}), "given twice");
}

TEST_CASE("BadSubjectOrRoleIsAUsageError") {
  check_usage_error(run({"--sub", "a b", "--role", "student"}), "--sub must be");
  check_usage_error(run({"--sub", "", "--role", "student"}), "--sub must be");
  check_usage_error(run({"--sub", std::string(65, 'x'), "--role", "student"}), "--sub must be");
  check_usage_error(run({"--sub", "s1", "--role", "owner"}), "--role must be");
  check_usage_error(run({"--sub", "s1", "--role", "Tutor"}), "--role must be");
}

TEST_CASE("TtlOutsideOneSecondToOneYearIsAUsageError") {
  for (const std::string_view ttl : {"0", "31536001", "-5", "+5", " 5", "5s", "1e3", "", "99999999999999999999"}) {
    CAPTURE(ttl);
    check_usage_error(run({"--sub", "s1", "--role", "student", "--ttl", ttl}), "--ttl must be");
  }
}

TEST_CASE("BinaryPrintsATokenThatVerifies") {
  const char* binary = std::getenv("TL_TUTORLEDGER_BIN");
  REQUIRE(binary != nullptr);
  const std::string command =
      "TL_JWT_SECRET=" + std::string(secret) + " '" + binary + "' token --sub s1 --role tutor --ttl 120";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[512];
  size_t size = 0;
  while ((size = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, size);
  const int status = pclose(pipe);
  CHECK(status == 0);
  REQUIRE(out.ends_with('\n'));
  const JwtResult verified =
      verify_jwt(out.substr(0, out.size() - 1), secret, static_cast<int64_t>(std::time(nullptr)));
  REQUIRE(verified.ok());
  CHECK(verified.claims().sub == "s1");
  CHECK(verified.claims().role == JwtRole::tutor);

  const std::string unset =
      "env -u TL_JWT_SECRET '" + std::string(binary) + "' token --sub s1 --role tutor 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(unset.c_str())) == 2);

  // A token that could not be written is a failure, not an empty success.
  const std::string unwritable = "TL_JWT_SECRET=" + std::string(secret) + " '" + binary +
                                 "' token --sub s1 --role tutor >/dev/full 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(unwritable.c_str())) == 1);
}
