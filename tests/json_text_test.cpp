#include <doctest/doctest.h>

#include <string>

#include "projections/json_text.h"

using namespace tl;

TEST_CASE("JsonStringsAreEscapedOneCanonicalWay") {
  std::string out;
  json::append_string(out, std::string("a\"b\\c\n\t\x01\x1f\x7f", 11));
  // The 11th byte is a NUL, which must be escaped too.
  CHECK(out == "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f\\u0000\"");
  out.clear();
  json::append_string(out, "Amharic: \xe1\x8a\xa0\xe1\x88\x9b\xe1\x88\xad\xe1\x8a\x9b");
  CHECK(out == "\"Amharic: \xe1\x8a\xa0\xe1\x88\x9b\xe1\x88\xad\xe1\x8a\x9b\"");
  out.clear();
  json::append_key(out, "amount");
  json::append_int(out, -9223372036854775807LL - 1);
  CHECK(out == "\"amount\":-9223372036854775808");
}
