#include "api/rtc_field.h"

#include <cassert>
#include <cstdlib>

#include "api/agora_token.h"
#include "projections/json_text.h"
#include "projections/time.h"

namespace tl::agora {
namespace {

// Both participants of a lesson talk and show video, so both are publishers.
RtcTokenRequest token_request(const AgoraCredentials& credentials, const RtcGrant& grant) {
  return RtcTokenRequest{.app_id = credentials.app_id,
                         .app_certificate = credentials.app_certificate,
                         .channel = grant.channel,
                         .account = grant.account,
                         .role = RtcRole::publisher,
                         .privilege_expire_s = grant.expire_s,
                         .token_expire_s = grant.expire_s};
}

std::string render(const AgoraCredentials& credentials, const RtcGrant& grant, std::string_view token,
                   uint32_t issue_ts) {
  const TimeMs expires_at = (static_cast<TimeMs>(issue_ts) + grant.expire_s) * ms_per_second;
  std::string out = "{";
  const auto member = [&out](std::string_view key, std::string_view value) {
    if (out.size() > 1) out += ',';
    json::append_key(out, key);
    json::append_string(out, value);
  };
  member("provider", "agora");
  member("app_id", credentials.app_id);
  member("channel", grant.channel);
  member("account", grant.account);
  member("token", token);
  member("expires_at", format_rfc3339_seconds(expires_at));
  out += '}';
  return out;
}

bool grant_is_valid(const RtcGrant& grant) { return grant.expire_s >= 1 && grant.expire_s <= rtc_expire_s_max; }

}  // namespace

std::optional<AgoraCredentials> agora_credentials_from_env() {
  const char* app_id = std::getenv("TL_AGORA_APP_ID");
  const char* app_certificate = std::getenv("TL_AGORA_APP_CERTIFICATE");
  if (app_id == nullptr || app_certificate == nullptr || *app_id == '\0' || *app_certificate == '\0') {
    return std::nullopt;
  }
  return AgoraCredentials{app_id, app_certificate};
}

bool credentials_are_valid(const AgoraCredentials& credentials) {
  return is_valid_app_key(credentials.app_id) && is_valid_app_key(credentials.app_certificate);
}

std::optional<std::string> render_rtc_json(const std::optional<AgoraCredentials>& credentials, const RtcGrant& grant,
                                           uint32_t issue_ts, uint32_t salt) {
  if (!credentials) return std::string("null");
  if (!grant_is_valid(grant)) return std::nullopt;
  const auto token = build_rtc_token(token_request(*credentials, grant), issue_ts, salt);
  if (!token) return std::nullopt;
  return render(*credentials, grant, *token, issue_ts);
}

}  // namespace tl::agora
