#include <doctest/doctest.h>

#include <ctime>
#include <string>

#include "api/agora_token.h"
#include "api/base64.h"

using namespace tl;
using namespace tl::agora;

namespace {

// The published vector of Agora's own unit tests: github.com/AgoraIO/Tools,
// DynamicKey/AgoraDynamicKey/cpp/test/AccessToken2_test.cpp (TestAccessToken2WithIntUid and
// TestAccessToken2WithStringUid give this same token; TestAccessToken2WithIntUidZero the
// second one). Inputs: one RTC service with only the join privilege, expiring after 600 s.
constexpr std::string_view app_id = "970CA35de60c44645bbae8a215061b33";
constexpr std::string_view app_certificate = "5CFd2fd1755d40ecb72977518be15d3b";
constexpr std::string_view channel = "7d72365eb983485397e3e3f9d460bdda";
constexpr uint32_t uid = 2882341273u;
constexpr uint32_t issue_ts = 1111111;
constexpr uint32_t expire_s = 600;
constexpr uint32_t salt = 1;

constexpr std::string_view agora_token_for_uid =
    "007eJxTYBBbsMMnKq7p9Hf/"
    "HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDc"
    "wMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkp"
    "iVwMRhYWRsYmhkbmxgDCaiTj";
constexpr std::string_view agora_token_for_uid_zero =
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/"
    "3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN"
    "3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMAD"
    "acImo=";

// Agora's vector grants join only: our subscriber role.
RtcTokenRequest vector_request(std::string_view account) {
  return RtcTokenRequest{.app_id = app_id,
                         .app_certificate = app_certificate,
                         .channel = channel,
                         .account = account,
                         .role = RtcRole::subscriber,
                         .privilege_expire_s = expire_s,
                         .token_expire_s = expire_s};
}

}  // namespace

// Checked first, and apart from the full string: if only zlib's output differed, this passes
// while the full-string test fails, which tells a compressor difference from an algorithm one.
TEST_CASE("PayloadMatchesAgoraVectorFieldByField") {
  const std::string account = account_from_uid(uid);
  const auto theirs = parse_token(agora_token_for_uid);
  REQUIRE(theirs);
  CHECK(theirs->app_id == app_id);
  CHECK(theirs->issue_ts == issue_ts);
  CHECK(theirs->expire == expire_s);
  CHECK(theirs->salt == salt);
  REQUIRE(theirs->services.size() == 1);
  CHECK(theirs->services[0] == TokenService{.type = rtc_service_type,
                                            .privileges = {{privilege_join_channel, expire_s}},
                                            .channel = std::string(channel),
                                            .account = "2882341273"});

  const auto our_payload = rtc_token_payload(vector_request(account), issue_ts, salt);
  REQUIRE(our_payload);
  CHECK(token_payload(agora_token_for_uid) == *our_payload);  // same bytes, signature included
  const auto ours = parse_token(*build_rtc_token(vector_request(account), issue_ts, salt));
  REQUIRE(ours);
  CHECK(ours->signature == theirs->signature);
  CHECK(*ours == *theirs);
}

TEST_CASE("ReproducesAgoraPublishedTokenForUidAndStringAccount") {
  CHECK(build_rtc_token(vector_request(account_from_uid(uid)), issue_ts, salt) == agora_token_for_uid);
  CHECK(build_rtc_token(vector_request("2882341273"), issue_ts, salt) == agora_token_for_uid);
}

TEST_CASE("ReproducesAgoraPublishedTokenForUidZero") {
  CHECK(account_from_uid(0).empty());
  const auto theirs = parse_token(agora_token_for_uid_zero);
  REQUIRE(theirs);
  REQUIRE(theirs->services.size() == 1);
  CHECK(theirs->services[0].account.empty());
  CHECK(token_payload(agora_token_for_uid_zero) == rtc_token_payload(vector_request(""), issue_ts, salt));
  CHECK(build_rtc_token(vector_request(account_from_uid(0)), issue_ts, salt) == agora_token_for_uid_zero);
}

TEST_CASE("AgoraVectorSignatureVerifiesOnlyWithItsCertificate") {
  const auto theirs = parse_token(agora_token_for_uid);
  REQUIRE(theirs);
  CHECK(token_signature_matches(*theirs, app_certificate));
  CHECK_FALSE(token_signature_matches(*theirs, "5CFd2fd1755d40ecb72977518be15d3c"));
  ParsedToken altered = *theirs;
  altered.signing_info.back() ^= 1;
  CHECK_FALSE(token_signature_matches(altered, app_certificate));
}

TEST_CASE("PublisherTokenGrantsJoinAndThreePublishPrivileges") {
  RtcTokenRequest request = vector_request("student_7");
  request.role = RtcRole::publisher;
  request.privilege_expire_s = 3600;
  request.token_expire_s = 7200;
  const auto token = build_rtc_token(request, 1'800'000'000, 0xDEADBEEF);
  REQUIRE(token);
  CHECK(token->starts_with("007eJ"));
  const auto parsed = parse_token(*token);
  REQUIRE(parsed);
  CHECK(parsed->expire == 7200);
  CHECK(parsed->salt == 0xDEADBEEF);
  CHECK(parsed->issue_ts == 1'800'000'000);
  REQUIRE(parsed->services.size() == 1);
  CHECK(parsed->services[0].account == "student_7");
  CHECK(parsed->services[0].privileges == std::map<uint16_t, uint32_t>{{privilege_join_channel, 3600},
                                                                       {privilege_publish_audio, 3600},
                                                                       {privilege_publish_video, 3600},
                                                                       {privilege_publish_data, 3600}});
  CHECK(token_signature_matches(*parsed, app_certificate));
}

TEST_CASE("InvalidCredentialsChannelOrAccountMakeNoToken") {
  const auto builds = [](RtcTokenRequest request) { return build_rtc_token(request, issue_ts, salt).has_value(); };
  RtcTokenRequest request = vector_request("s1");
  CHECK(builds(request));
  request.app_id = "970CA35de60c44645bbae8a215061b3";  // 31 digits
  CHECK_FALSE(builds(request));
  request.app_id = "970CA35de60c44645bbae8a215061b3g";
  CHECK_FALSE(builds(request));
  request = vector_request("s1");
  request.app_certificate = "";
  CHECK_FALSE(builds(request));
  request = vector_request("s1");
  request.channel = "";
  CHECK_FALSE(builds(request));
  const std::string longest_channel(channel_bytes_max, 'c');
  request.channel = longest_channel;
  CHECK(builds(request));
  const std::string long_channel(channel_bytes_max + 1, 'c');
  request.channel = long_channel;
  CHECK_FALSE(builds(request));
  request.channel = "a/b";
  CHECK_FALSE(builds(request));
  request.channel = "lesson \"1\"";
  CHECK_FALSE(builds(request));
  request = vector_request("s1");
  const std::string long_account(account_bytes_max + 1, 'a');
  request.account = long_account;
  CHECK_FALSE(builds(request));
  request.account = "caf\xc3\xa9";
  CHECK_FALSE(builds(request));
}

TEST_CASE("DamagedTokensDoNotParse") {
  const std::string good(agora_token_for_uid);
  REQUIRE(parse_token(good));
  CHECK_FALSE(parse_token("006" + good.substr(3)));
  CHECK_FALSE(parse_token(good.substr(3)));
  CHECK_FALSE(parse_token(good.substr(0, good.size() - 4)));  // truncated zlib stream
  CHECK_FALSE(parse_token(good + "A"));                       // not base64 any more
  CHECK_FALSE(parse_token("007"));
  CHECK_FALSE(parse_token("007!!!!"));
  CHECK_FALSE(parse_token(std::string(token_chars_max + 1, 'A')));
  // Bytes after the zlib stream.
  auto compressed = base64::decode_standard(good.substr(3));
  REQUIRE(compressed);
  CHECK_FALSE(parse_token("007" + base64::encode_standard(*compressed + "xyz")));
}

TEST_CASE("NewTokenIssueUsesTheWallClockAndARandomSalt") {
  const auto before = static_cast<uint32_t>(std::time(nullptr));
  const auto first = new_token_issue();
  const auto second = new_token_issue();
  const auto after = static_cast<uint32_t>(std::time(nullptr));
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->issue_ts >= before);
  CHECK(first->issue_ts <= after);
  // Two 32-bit random salts collide with probability 2^-32.
  CHECK(first->salt != second->salt);
  RtcTokenRequest request = vector_request("tutor_1");
  request.role = RtcRole::publisher;
  const auto token = build_rtc_token(request, first->issue_ts, first->salt);
  REQUIRE(token);
  const auto parsed = parse_token(*token);
  REQUIRE(parsed);
  CHECK(parsed->issue_ts == first->issue_ts);
  CHECK(parsed->salt == first->salt);
  CHECK(token_signature_matches(*parsed, app_certificate));
}
