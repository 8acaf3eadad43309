// The request log line: fixed fields, JSON-escaped, bounded method, null user.
#include <doctest/doctest.h>

#include "api/access_log.h"
#include "api/http_errors.h"

TEST_CASE("AccessLogLineHasTheFixedFieldsInOrder") {
  tl::AccessLogEntry entry;
  entry.at = 1'795'514'400'250;  // 2026-11-24T10:00:00.250Z
  entry.method = "POST";
  entry.route = "POST /api/bookings/{id}/accept";
  entry.status = 409;
  entry.micros = 1234;
  entry.user = "tutor:t1";
  entry.remote = "127.0.0.1:5555";
  CHECK(tl::format_access_log_line(entry) ==
        R"({"time":"2026-11-24T10:00:00.250Z","method":"POST","route":"POST /api/bookings/{id}/accept",)"
        R"("status":409,"micros":1234,"user":"tutor:t1","remote":"127.0.0.1:5555"})"
        "\n");
}

TEST_CASE("AccessLogEscapesTextAndBoundsTheMethod") {
  tl::AccessLogEntry entry;
  entry.at = 0;
  entry.method = "VERYLONGMETHODNAME-MORE";
  entry.route = "unrouted";
  entry.status = 400;
  entry.remote = "a\"b";
  const std::string line = tl::format_access_log_line(entry);
  CHECK(line.find(R"("method":"VERYLONGMETHODNA")") != std::string::npos);
  CHECK(line.find(R"("user":null)") != std::string::npos);
  CHECK(line.find(R"("remote":"a\"b")") != std::string::npos);
}

TEST_CASE("Utf8PrefixNeverCutsACharacter") {
  CHECK(tl::utf8_prefix("abc", 5) == "abc");
  CHECK(tl::utf8_prefix("abc", 2) == "ab");
  CHECK(tl::utf8_prefix("a\xC3\xA9", 2) == "a");         // é is 2 bytes
  CHECK(tl::utf8_prefix("a\xE2\x82\xAC", 3) == "a");     // € is 3 bytes
  CHECK(tl::utf8_prefix("a\xE2\x82\xAC", 4) == "a\xE2\x82\xAC");
}
