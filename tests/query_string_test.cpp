// Query strings: decoding, repeated keys, limits, and integer parameters.
#include <doctest/doctest.h>

#include <string>

#include "api/query_string.h"

TEST_CASE("QueryPairsAreDecodedWithPlusAsSpace") {
  tl::QueryParams query;
  REQUIRE(tl::parse_query("limit=5&cursor=ab%2Bc&q=a+b&flag&empty=", query).is_ok());
  CHECK(query.size() == 5);
  CHECK(query.get("limit") == "5");
  CHECK(query.get("cursor") == "ab+c");
  CHECK(query.get("q") == "a b");
  CHECK(query.get("flag") == "");
  CHECK(query.get("empty") == "");
  CHECK_FALSE(query.get("missing").has_value());
}

TEST_CASE("EmptyQueryAndEmptyPairsAreFine") {
  tl::QueryParams query;
  REQUIRE(tl::parse_query("", query).is_ok());
  CHECK(query.size() == 0);
  REQUIRE(tl::parse_query("&&a=1&&", query).is_ok());
  CHECK(query.size() == 1);
  CHECK(query.get("a") == "1");
}

TEST_CASE("EqualsSignsAfterTheFirstBelongToTheValue") {
  tl::QueryParams query;
  REQUIRE(tl::parse_query("cursor=abc==", query).is_ok());
  CHECK(query.get("cursor") == "abc==");
}

TEST_CASE("BadQueriesAreRefusedWithAMessageNamingTheProblem") {
  struct Case {
    const char* query;
    const char* message_part;
  };
  const Case cases[] = {
      {"limit=1&limit=2", "'limit' is repeated"},
      {"limit=1&%6Cimit=2", "'limit' is repeated"},  // repeated after decoding
      {"=5", "without a name"},
      {"a=%zz", "'a'"},
      {"a=%4", "'a'"},
      {"a=%00", "'a'"},
      {"a=%FF", "'a'"},
      {"%zz=1", "malformed parameter name"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.query);
    tl::QueryParams query;
    const tl::Status status = tl::parse_query(c.query, query);
    REQUIRE(status.code() == tl::Status::Code::invalid_argument);
    CHECK(status.message().find(c.message_part) != std::string::npos);
  }
}

TEST_CASE("QueryOverItsByteLimitIsRefused") {
  tl::QueryParams query;
  const std::string long_query = "cursor=" + std::string(100, 'x');
  CHECK(tl::parse_query(long_query, query, 107).is_ok());
  CHECK_FALSE(tl::parse_query(long_query, query, 106).is_ok());
  CHECK_FALSE(tl::parse_query("a=" + std::string(tl::query_bytes_max_default, 'x'), query).is_ok());
}

TEST_CASE("QueryWithTooManyParametersIsRefused") {
  std::string text;
  for (size_t i = 0; i <= tl::query_params_max; ++i) text += "k" + std::to_string(i) + "=1&";
  tl::QueryParams query;
  const tl::Status status = tl::parse_query(text, query);
  CHECK(status.message().find("more than") != std::string::npos);
}

TEST_CASE("IntegerParameterIsCheckedAgainstItsRange") {
  tl::QueryParams query;
  REQUIRE(tl::parse_query("limit=200&from=-1&bad=1.5&plus=%2B5&space=+5&big=99999999999999999999", query).is_ok());
  int64_t limit = 50;
  CHECK(query.read_int64("limit", limit, 1, 200).is_ok());
  CHECK(limit == 200);
  int64_t absent = 50;
  CHECK(query.read_int64("cursor", absent, 1, 200).is_ok());
  CHECK(absent == 50);  // absent: the default stays
  int64_t value = 7;
  const tl::Status out_of_range = query.read_int64("from", value, 1, 1000);
  CHECK(out_of_range.message() == "query parameter 'from' must be an integer from 1 to 1000");
  for (const char* name : {"bad", "plus", "space", "big"}) {
    CAPTURE(name);
    CHECK_FALSE(query.read_int64(name, value, 0, 1000).is_ok());
  }
  CHECK(value == 7);  // untouched on error
}
