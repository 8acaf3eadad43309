// The hand validator of canonical JSON (engine/canonical_json.h) against simdjson's DOM parser:
// what it accepts is valid JSON, and whatever it declines, JsonObjectChecker still judges as the
// general parser does.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/canonical_json.h"
#include "engine/record_codec.h"

using namespace tl;

namespace {

std::string nested_arrays(int depth) { return R"({"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}"; }

}  // namespace

TEST_CASE("CanonicalObjectsAreAcceptedByHandAndAreValidJson") {
  JsonObjectChecker checker;
  for (const std::string& text : std::vector<std::string>{
           "{}",
           R"({"booking_id":"bk_1"})",
           R"({"price":{"amount":35000,"currency":"ETB"},"n":-12,"zero":0})",
           R"({"postings":[{"debit":"a","credit":"b","amount":1,"currency":"ETB"},{"debit":"c","credit":"d","amount":2,"currency":"USD"}]})",
           R"({"list":[],"empty":{},"flags":[true,false,null],"big":999999999999999999})",
           "{\"note\":\"am\xe1\x8a\xa0\xe1\x88\x9b \xf0\x9f\x93\x9a\"}",
           R"({"same":1,"same":2})",
           nested_arrays(canonical_json_depth_max - 2),
       }) {
    CAPTURE(text);
    CHECK(is_canonical_json_object(text));
    CHECK(checker.check(text).is_ok());
    CHECK(checker.check_json(text).is_ok());
  }
}

TEST_CASE("EverythingElseIsDeclinedByHandAndJudgedByTheGeneralParser") {
  struct Case {
    std::string text;
    bool valid;  // one JSON object with no whitespace around it
  };
  const std::vector<Case> cases = {
      {R"({ "a":1})", true},
      {R"({"a": 1})", true},
      {R"({"a":"x\"y"})", true},
      {R"({"a":"\u00e9"})", true},
      {R"({"a":1.5})", true},
      {R"({"a":1e3})", true},
      {R"({"a":-0})", true},
      {R"({"a":9223372036854775807})", true},
      {nested_arrays(canonical_json_depth_max + 1), true},
      {R"({"a":01})", false},
      {R"({"a":+1})", false},
      {R"({"a":tru})", false},
      {R"({"a":1,})", false},
      {R"({"a"})", false},
      {R"({"a":1},"b":{})", false},
      {R"({"a":[1,2})", false},
      {R"({"a":1}})", false},
      {"{\"a\":\"\x01\"}", false},
      {"{\"a\":\"\xC3\x28\"}", false},
      {" {\"a\":1}", false},
      {"[1]", false},
      {"{", false},
  };
  JsonObjectChecker checker;
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK_FALSE(is_canonical_json_object(c.text));
    CHECK(checker.check(c.text).is_ok() == c.valid);
    if (!c.valid) CHECK_FALSE(checker.check(c.text).message().empty());  // a reason is given
  }
}
