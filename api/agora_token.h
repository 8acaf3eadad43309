#pragma once
// Agora RTC tokens, AccessToken2 version "007": the algorithm of Agora's open-source token
// builders (github.com/AgoraIO/Tools, DynamicKey/AgoraDynamicKey, cpp/src/AccessToken2.h and
// python3/src/AccessToken2.py), written from that description:
//
//   signing key = HMAC(key = u32le(salt), HMAC(key = u32le(issue_ts), app_certificate))
//   signing info = str(app_id) u32(issue_ts) u32(expire) u32(salt) u16(service count)
//                  { u16(type) u16(privilege count) { u16(privilege) u32(expire) }
//                    str(channel) str(account) }            for each service, by type
//   token = "007" + base64(zlib_compress(str(HMAC(signing key, signing info)) + signing info))
//
// where str(s) is u16le(length) followed by the bytes, and every HMAC is HMAC-SHA256.
// Expiry values are seconds after issue_ts. Tokens are secrets: never store or log them.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::agora {

constexpr std::string_view token_version = "007";
constexpr size_t app_key_chars = 32;        // app id and app certificate: 32 hex digits
constexpr size_t channel_bytes_max = 63;    // Agora: channel names are "less than 64 bytes"
constexpr size_t account_bytes_max = 255;   // Agora: user accounts are at most 255 bytes
constexpr size_t token_chars_max = 4096;    // what parse_token accepts
constexpr size_t payload_bytes_max = 4096;  // what parse_token inflates to, at most

constexpr uint16_t rtc_service_type = 1;
constexpr uint16_t privilege_join_channel = 1;
constexpr uint16_t privilege_publish_audio = 2;
constexpr uint16_t privilege_publish_video = 3;
constexpr uint16_t privilege_publish_data = 4;

// As in Agora's RtcTokenBuilder2: a publisher may join and publish audio, video and data; a
// subscriber may only join.
enum class RtcRole { publisher, subscriber };

struct RtcTokenRequest {
  std::string_view app_id;
  std::string_view app_certificate;
  std::string_view channel;
  std::string_view account;  // user account; "" lets any user join (Agora's uid 0)
  RtcRole role = RtcRole::publisher;
  uint32_t privilege_expire_s = 0;  // how long the privileges last, after issue
  uint32_t token_expire_s = 0;      // how long the token lasts, after issue
};

// Agora's integer uids are carried as their decimal text; uid 0 is the empty account.
std::string account_from_uid(uint32_t uid);

// True for exactly 32 hex digits, the shape of an app id and of an app certificate.
bool is_valid_app_key(std::string_view key);

// The uncompressed token body: str(signature) followed by the signing info. nullopt when the
// app id or certificate is not 32 hex digits, or the channel or account is too long or uses
// characters Agora does not allow.
std::optional<std::string> rtc_token_payload(const RtcTokenRequest& request, uint32_t issue_ts, uint32_t salt);

// The token, "007..." (pure: the same inputs give the same token). nullopt as above.
std::optional<std::string> build_rtc_token(const RtcTokenRequest& request, uint32_t issue_ts, uint32_t salt);

// When a token is issued and with which salt: with the request, all that makes the token.
struct TokenIssue {
  uint32_t issue_ts = 0;  // unix seconds
  uint32_t salt = 0;
  friend bool operator==(const TokenIssue&, const TokenIssue&) = default;
};

// issue_ts from the wall clock (Agora checks tokens against real time, so this is right in
// test-clock mode too) and a salt from OpenSSL RAND_bytes; nullopt when the generator fails.
std::optional<TokenIssue> new_token_issue();

// A decoded token, for tests and diagnostics.
struct TokenService {
  uint16_t type = 0;
  std::map<uint16_t, uint32_t> privileges;  // privilege -> expire seconds
  std::string channel;
  std::string account;

  bool operator==(const TokenService&) const = default;
};

struct ParsedToken {
  std::string signature;  // 32 raw bytes
  std::string app_id;
  uint32_t issue_ts = 0;
  uint32_t expire = 0;
  uint32_t salt = 0;
  std::vector<TokenService> services;
  std::string signing_info;  // the signed bytes, as they were in the token

  bool operator==(const ParsedToken&) const = default;
};

// Strips "007", base64-decodes and inflates. nullopt on any malformation or when the body
// would exceed payload_bytes_max.
std::optional<std::string> token_payload(std::string_view token);

// Decodes a token into its fields. Only the RTC service (type 1) is understood; a token with
// any other service, or with bytes left over, is nullopt.
std::optional<ParsedToken> parse_token(std::string_view token);

// True when the token's signature is right for `app_certificate`.
bool token_signature_matches(const ParsedToken& token, std::string_view app_certificate);

}  // namespace tl::agora
