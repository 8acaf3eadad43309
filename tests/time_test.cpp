#include <doctest/doctest.h>

#include "projections/time.h"

using namespace tl;

TEST_CASE("Rfc3339RoundTripsUtcWithZ") {
  const auto at = parse_rfc3339("2026-11-24T10:00:00Z");
  REQUIRE(at);
  CHECK(*at == 1795514400000);
  CHECK(format_rfc3339(*at) == "2026-11-24T10:00:00Z");
  CHECK(format_rfc3339(*at + 250) == "2026-11-24T10:00:00.250Z");
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(parse_rfc3339("2026-11-24T10:00:00.250Z") == *at + 250);
  CHECK(parse_rfc3339("2026-11-24T10:00:00.2Z") == *at + 200);
}

TEST_CASE("Rfc3339FormatsEveryFieldWithItsPaddingUpToTheLastMillisecond") {
  CHECK(format_rfc3339(time_ms_max) == "9999-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(*parse_rfc3339("2024-02-29T07:08:09.005Z")) == "2024-02-29T07:08:09.005Z");
  CHECK(format_rfc3339(*parse_rfc3339("2001-01-02T03:04:05Z")) == "2001-01-02T03:04:05Z");
  CHECK(format_rfc3339_seconds(*parse_rfc3339("2026-11-24T10:00:00.999Z")) == "2026-11-24T10:00:00Z");
  // Every millisecond-step instant of a few years formats to text that parses back to it.
  for (TimeMs at = 1700000000000; at < 1800000000000; at += 86'399'997) {
    CAPTURE(at);
    CHECK(parse_rfc3339(format_rfc3339(at)) == at);
  }
}

TEST_CASE("Rfc3339OffsetsAreConvertedToUtc") {
  CHECK(parse_rfc3339("2026-11-24T13:00:00+03:00") == parse_rfc3339("2026-11-24T10:00:00Z"));
  CHECK(parse_rfc3339("2026-11-24T05:30:00-04:30") == parse_rfc3339("2026-11-24T10:00:00Z"));
}

TEST_CASE("Rfc3339RefusesMalformedOrImpossibleTimes") {
  for (const char* bad : {"", "2026-11-24", "2026-11-24T10:00:00", "2026-11-24 10:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-24T24:00:00Z",
                          "2026-11-24T10:60:00Z", "2026-11-24T10:00:60Z", "2026-11-24T10:00:00.Z",
                          "2026-11-24T10:00:00.0001Z", "1969-12-31T23:59:59Z", "2026-11-24T10:00:00Zjunk",
                          "2026-11-24T10:00:00+3:00", "+2026-11-24T10:00:00Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z"));
  CHECK(parse_rfc3339("2026-11-24T10:00:00.000000Z"));  // zeros below a millisecond are exact
}

TEST_CASE("Rfc3339ToTheSecondTakesAnyFractionAndRoundsDown") {
  const auto at = parse_rfc3339("2026-11-24T10:00:00Z");
  REQUIRE(at);
  for (const char* text : {"2026-11-24T10:00:00Z", "2026-11-24T10:00:00.999999Z", "2026-11-24T10:00:00.123456789Z",
                           "2026-11-24T13:00:00.500000+03:00"}) {
    CAPTURE(text);
    CHECK(parse_rfc3339_to_second(text) == at);
  }
  // The same grammar otherwise: what parse_rfc3339 refuses for its form, this refuses too.
  for (const char* bad : {"2026-11-24T10:00:00.Z", "2026-11-24T10:00:00", "1969-12-31T23:59:59.5Z", "2026-11-24"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rfc3339_to_second(bad));
  }
}

TEST_CASE("InstantsRoundToTheirSecondDownAndUpAlsoBefore1970") {
  CHECK(floor_to_second(1795514400000) == 1795514400000);
  CHECK(floor_to_second(1795514400999) == 1795514400000);
  CHECK(ceil_to_second(1795514400000) == 1795514400000);
  CHECK(ceil_to_second(1795514400001) == 1795514401000);
  CHECK(floor_to_second(-1) == -1000);
  CHECK(ceil_to_second(-1) == 0);
  CHECK(ceil_to_second(-1000) == -1000);
}
