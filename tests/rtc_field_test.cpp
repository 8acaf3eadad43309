#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "api/agora_token.h"
#include "api/rtc_field.h"

using namespace tl::agora;

namespace {

const AgoraCredentials credentials{"970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"};

}  // namespace

TEST_CASE("RtcFieldIsNullWithoutCredentials") {
  const RtcGrant grant{.channel = "bk_1", .account = "s1", .expire_s = 600};
  CHECK(render_rtc_json(std::nullopt, grant, 1111111, 1) == "null");
  CHECK(render_rtc_json_now(std::nullopt, grant) == "null");
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

TEST_CASE("RtcFieldNowIssuesAFreshVerifiableToken") {
  const RtcGrant grant{.channel = "bk_2", .account = "t1", .expire_s = 3600};
  const auto json = render_rtc_json_now(credentials, grant);
  REQUIRE(json);
  const size_t start = json->find("\"token\":\"") + 9;
  const std::string token = json->substr(start, json->find('"', start) - start);
  const auto parsed = parse_token(token);
  REQUIRE(parsed);
  CHECK(token_signature_matches(*parsed, credentials.app_certificate));
  CHECK(parsed->services.at(0).account == "t1");
  CHECK(parsed->expire == 3600);
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
