#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "api/cli_args.h"

using namespace tl::cli;

namespace {

constexpr std::array<OptionSpec, 4> specs = {{
    {"data", true},
    {"listen", true},
    {"test-clock", false},
    {"digest", true},
}};

ArgsResult parse(std::vector<std::string_view> args) { return parse_args(Args(args), specs); }

}  // namespace

TEST_CASE("ValuesComeWithASpaceOrAnEqualsSign") {
  std::vector<std::string_view> args = {"--data", "/var/tl", "--listen=0.0.0.0:9000"};
  const ArgsResult result = parse_args(Args(args), specs);
  REQUIRE(result.ok());
  CHECK(result.args.value("data") == "/var/tl");
  CHECK(result.args.value("listen") == "0.0.0.0:9000");
  CHECK_FALSE(result.args.has("test-clock"));
  CHECK_FALSE(result.args.value("digest"));
  CHECK(result.args.positionals().empty());
}

TEST_CASE("FlagsAndPositionalsMixInAnyOrder") {
  std::vector<std::string_view> args = {"verify", "--test-clock", "bk_1", "--data", "d", "-"};
  const ArgsResult result = parse_args(Args(args), specs);
  REQUIRE(result.ok());
  CHECK(result.args.has("test-clock"));
  CHECK_FALSE(result.args.value("test-clock"));
  REQUIRE(result.args.positionals().size() == 3);
  CHECK(result.args.positionals()[0] == "verify");
  CHECK(result.args.positionals()[1] == "bk_1");
  CHECK(result.args.positionals()[2] == "-");
}

TEST_CASE("DoubleDashEndsTheOptions") {
  std::vector<std::string_view> args = {"--data", "d", "--", "--listen", "-x"};
  const ArgsResult result = parse_args(Args(args), specs);
  REQUIRE(result.ok());
  CHECK_FALSE(result.args.has("listen"));
  REQUIRE(result.args.positionals().size() == 2);
  CHECK(result.args.positionals()[0] == "--listen");
  CHECK(result.args.positionals()[1] == "-x");
}

TEST_CASE("ValuesMayBeEmptyOrStartWithASingleDash") {
  std::vector<std::string_view> args = {"--data=", "--digest", "-5:abc", "--listen=a=b"};
  const ArgsResult result = parse_args(Args(args), specs);
  REQUIRE(result.ok());
  CHECK(result.args.value("data") == "");
  CHECK(result.args.value("digest") == "-5:abc");
  CHECK(result.args.value("listen") == "a=b");
}

TEST_CASE("UnknownOptionIsAnError") {
  CHECK(parse({"--dta", "x"}).error == "unknown option '--dta'");
  CHECK(parse({"--data=x", "--verbose=1"}).error == "unknown option '--verbose'");
  CHECK(parse({"-d", "x"}).error == "unknown option '-d'");
  CHECK(parse({"---data", "x"}).error == "unknown option '---data'");
}

TEST_CASE("MissingValueIsAnError") {
  CHECK(parse({"--data"}).error == "option '--data' needs a value");
  CHECK(parse({"--data", "--test-clock"}).error == "option '--data' needs a value");
}

TEST_CASE("FlagGivenAValueIsAnError") {
  CHECK(parse({"--test-clock=yes"}).error == "option '--test-clock' takes no value");
}

TEST_CASE("OptionGivenTwiceIsAnError") {
  CHECK(parse({"--data", "a", "--data=b"}).error == "option '--data' is given twice");
  CHECK(parse({"--test-clock", "--test-clock"}).error == "option '--test-clock' is given twice");
}

TEST_CASE("FailedParseKeepsNothing") {
  const ArgsResult result = parse({"--data", "a", "pos", "--nope"});
  CHECK_FALSE(result.ok());
  CHECK_FALSE(result.args.has("data"));
  CHECK(result.args.positionals().empty());
}

TEST_CASE("TooManyArgumentsAreRefused") {
  std::vector<std::string_view> args(args_count_max + 1, "p");
  CHECK(parse(args).error == "too many arguments");
  args.pop_back();
  CHECK(parse(args).ok());
}

TEST_CASE("WholeNumbersAreDigitsOnlyWithinTheirRange") {
  CHECK(parse_whole_number("24", 24, 100) == 24);
  CHECK(parse_whole_number("100", 24, 100) == 100);
  CHECK(parse_whole_number("007", 1, 10) == 7);
  for (const std::string_view text : {"", "23", "101", "-5", "+5", " 5", "5 ", "5x", "1e2", "2.5", "99999999999999999999"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_whole_number(text, 24, 100).has_value());
  }
}
