#pragma once
// The `rtc` field of session start/join responses (API.md): an Agora token for one user in one
// channel, or JSON `null` when the Agora credentials are not configured.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl::agora {

// Agora allows a privilege to last at most 24 hours.
constexpr uint32_t rtc_expire_s_max = 24 * 60 * 60;

struct AgoraCredentials {
  std::string app_id;
  std::string app_certificate;
};

// From env TL_AGORA_APP_ID and TL_AGORA_APP_CERTIFICATE; nullopt unless both are set and
// non-empty. Whether they are well formed is checked by credentials_are_valid (at start-up).
std::optional<AgoraCredentials> agora_credentials_from_env();
bool credentials_are_valid(const AgoraCredentials& credentials);

struct RtcGrant {
  std::string_view channel;
  std::string_view account;  // the user id
  uint32_t expire_s = 0;     // token and privileges, after issue; 1..rtc_expire_s_max
};

// {"provider":"agora","app_id":...,"channel":...,"account":...,"token":...,"expires_at":...}
// with expires_at = issue_ts + expire_s in RFC 3339, or "null" when `credentials` is nullopt.
// nullopt when the inputs cannot make a token (bad credentials, channel or account).
std::optional<std::string> render_rtc_json(const std::optional<AgoraCredentials>& credentials, const RtcGrant& grant,
                                           uint32_t issue_ts, uint32_t salt);

}  // namespace tl::agora
