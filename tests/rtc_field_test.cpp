#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "api/agora_token.h"
#include "api/rtc_answer.h"
#include "api/rtc_field.h"

using namespace tl::agora;

namespace {

const AgoraCredentials credentials{"970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"};

}  // namespace

TEST_CASE("RtcFieldIsNullWithoutCredentials") {
  const RtcGrant grant{.channel = "bk_1", .account = "s1", .expire_s = 600};
  CHECK(render_rtc_json(std::nullopt, grant, 1111111, 1) == "null");
}

TEST_CASE("RtcFieldCarriesThePublisherTokenAndItsExpiry") {
  const RtcGrant grant{.channel = "bk_1", .account = "s1", .expire_s = 600};
  const auto token = build_rtc_token(RtcTokenRequest{.app_id = credentials.app_id,
                                                     .app_certificate = credentials.app_certificate,
                                                     .channel = "bk_1",
                                                     .account = "s1",
                                                     .role = RtcRole::publisher,
                                                     .privilege_expire_s = 600,
                                                     .token_expire_s = 600},
                                     1111111, 1);
  REQUIRE(token);
  // 1111111 + 600 s after the epoch is 12 days, 20:48:31.
  CHECK(render_rtc_json(credentials, grant, 1111111, 1) ==
        R"({"provider":"agora","app_id":"970CA35de60c44645bbae8a215061b33","channel":"bk_1","account":"s1","token":")" +
            *token + R"(","expires_at":"1970-01-13T20:48:31Z"})");
}

TEST_CASE("RtcFieldRefusesBadExpiryOrCredentials") {
  CHECK_FALSE(render_rtc_json(credentials, {.channel = "bk_1", .account = "s1", .expire_s = 0}, 1111111, 1));
  CHECK_FALSE(
      render_rtc_json(credentials, {.channel = "bk_1", .account = "s1", .expire_s = rtc_expire_s_max + 1}, 1111111, 1));
  CHECK(render_rtc_json(credentials, {.channel = "bk_1", .account = "s1", .expire_s = rtc_expire_s_max}, 1111111, 1));
  const AgoraCredentials bad{"not-an-app-id", credentials.app_certificate};
  CHECK_FALSE(credentials_are_valid(bad));
  CHECK(credentials_are_valid(credentials));
  CHECK_FALSE(render_rtc_json(bad, {.channel = "bk_1", .account = "s1", .expire_s = 600}, 1111111, 1));
}

namespace {

const std::string stored_booking = R"({"booking":{"id":"bk_1","notes":",\"rtc\":{\"issue_ts\":1,\"salt\":2}"}})";

// The token of a sent answer's rtc member.
std::string token_in(const std::string& body) {
  const size_t start = body.find("\"token\":\"");
  REQUIRE(start != std::string::npos);
  const size_t value = start + 9;
  return body.substr(value, body.find('"', value) - value);
}

}  // namespace

TEST_CASE("StoredAnswerKeepsHowTheTokenWasMadeNotTheToken") {
  const RtcGrant grant{.channel = "tl-bk_1", .account = "s1", .expire_s = 3600};
  const RtcAnswer fresh = new_rtc_answer(credentials, grant);
  REQUIRE(fresh.issue);
  const std::string stored = with_stored_rtc(stored_booking, fresh.issue);
  CHECK(stored == stored_booking.substr(0, stored_booking.size() - 1) +
                      fmt::format(R"(,"rtc":{{"issue_ts":{},"salt":{}}}}})", fresh.issue->issue_ts, fresh.issue->salt));
  CHECK(stored.find("007") == std::string::npos);

  // The first answer sends the credentials made before the command was submitted.
  const std::string first = sent_rtc_answer(stored, credentials, grant, fresh);
  CHECK(first == stored_booking.substr(0, stored_booking.size() - 1) + ",\"rtc\":" + fresh.json + "}");
  const auto parsed = parse_token(token_in(first));
  REQUIRE(parsed);
  CHECK(token_signature_matches(*parsed, credentials.app_certificate));
  CHECK(parsed->issue_ts == fresh.issue->issue_ts);

  // A retry made new credentials of its own, but gets the first answer again, byte for byte.
  RtcAnswer retry = new_rtc_answer(credentials, grant);
  REQUIRE(retry.issue);
  retry.issue->salt = fresh.issue->salt + 1;  // (a new salt, even within the same second)
  retry.json = render_rtc_json(credentials, grant, retry.issue->issue_ts, retry.issue->salt).value();
  CHECK(retry.json != fresh.json);
  CHECK(sent_rtc_answer(stored, credentials, grant, retry) == first);

  // Credentials taken away since: the replay says null rather than a token it cannot make.
  CHECK(sent_rtc_answer(stored, std::nullopt, grant, RtcAnswer{std::nullopt, "null"}) ==
        stored_booking.substr(0, stored_booking.size() - 1) + ",\"rtc\":null}");
}

TEST_CASE("AnswerWithoutCredentialsStaysNull") {
  const RtcGrant grant{.channel = "tl-bk_1", .account = "s1", .expire_s = 3600};
  const RtcAnswer none = new_rtc_answer(std::nullopt, grant);
  CHECK_FALSE(none.issue);
  CHECK(none.json == "null");
  const std::string stored = with_stored_rtc(stored_booking, none.issue);
  CHECK(stored.ends_with(",\"rtc\":null}"));
  // Credentials configured since: the replay is still the first answer.
  CHECK(sent_rtc_answer(stored, credentials, grant, new_rtc_answer(credentials, grant)) == stored);
  // An account Agora does not allow makes no token: null, as without credentials.
  const RtcAnswer refused = new_rtc_answer(credentials, {.channel = "tl-bk_1", .account = "s\"1", .expire_s = 3600});
  CHECK_FALSE(refused.issue);
  CHECK(refused.json == "null");
}

TEST_CASE("AnswerStoredBeforeTheMemberExistedGetsFreshCredentials") {
  const RtcGrant grant{.channel = "tl-bk_1", .account = "s1", .expire_s = 3600};
  const RtcAnswer fresh = new_rtc_answer(credentials, grant);
  CHECK(sent_rtc_answer(stored_booking, credentials, grant, fresh) ==
        stored_booking.substr(0, stored_booking.size() - 1) + ",\"rtc\":" + fresh.json + "}");
}

TEST_CASE("CredentialsComeFromBothEnvironmentVariables") {
  unsetenv("TL_AGORA_APP_ID");
  unsetenv("TL_AGORA_APP_CERTIFICATE");
  CHECK_FALSE(agora_credentials_from_env());
  setenv("TL_AGORA_APP_ID", credentials.app_id.c_str(), 1);
  CHECK_FALSE(agora_credentials_from_env());
  setenv("TL_AGORA_APP_CERTIFICATE", "", 1);
  CHECK_FALSE(agora_credentials_from_env());
  setenv("TL_AGORA_APP_CERTIFICATE", credentials.app_certificate.c_str(), 1);
  const auto found = agora_credentials_from_env();
  REQUIRE(found);
  CHECK(found->app_id == credentials.app_id);
  CHECK(found->app_certificate == credentials.app_certificate);
  unsetenv("TL_AGORA_APP_ID");
  unsetenv("TL_AGORA_APP_CERTIFICATE");
}
