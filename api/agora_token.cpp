#include "api/agora_token.h"

#include <cassert>
#include <ctime>
#include <utility>

#include <openssl/rand.h>
#include <zlib.h>

#include "api/base64.h"
#include "api/hmac_sha256.h"

namespace tl::agora {
namespace {

// Characters Agora allows in channel names and user accounts (RtcTokenBuilder2.h docs):
// letters, digits, space and these punctuation marks.
constexpr std::string_view allowed_punctuation = "!#$%&()+-:;<=.>?@[]^_{}|~,";

bool uses_allowed_characters(std::string_view text) {
  for (const char c : text) {
    const bool alphanumeric = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alphanumeric && c != ' ' && allowed_punctuation.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool is_valid_request(const RtcTokenRequest& request) {
  return is_valid_app_key(request.app_id) && is_valid_app_key(request.app_certificate) && !request.channel.empty() &&
         request.channel.size() <= channel_bytes_max && uses_allowed_characters(request.channel) &&
         request.account.size() <= account_bytes_max && uses_allowed_characters(request.account);
}

// Agora's wire format: little-endian integers, strings as u16 length plus bytes.
void put_u16(std::string& out, uint16_t value) {
  out += static_cast<char>(value & 0xFF);
  out += static_cast<char>(value >> 8);
}

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>(value >> shift & 0xFF);
}

void put_string(std::string& out, std::string_view text) {
  assert(text.size() <= UINT16_MAX);
  put_u16(out, static_cast<uint16_t>(text.size()));
  out += text;
}

std::string u32_bytes(uint32_t value) {
  std::string out;
  put_u32(out, value);
  return out;
}

std::string_view digest_bytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

Digest signing_key(std::string_view app_certificate, uint32_t issue_ts, uint32_t salt) {
  const Digest first = hmac_sha256(u32_bytes(issue_ts), app_certificate);
  return hmac_sha256(u32_bytes(salt), digest_bytes(first));
}

std::string signing_info(const RtcTokenRequest& request, uint32_t issue_ts, uint32_t salt) {
  std::string info;
  put_string(info, request.app_id);
  put_u32(info, issue_ts);
  put_u32(info, request.token_expire_s);
  put_u32(info, salt);
  put_u16(info, 1);  // one service: RTC
  put_u16(info, rtc_service_type);
  const bool publisher = request.role == RtcRole::publisher;
  put_u16(info, static_cast<uint16_t>(publisher ? 4 : 1));
  // Privileges in ascending order, as Agora's std::map and sorted dict write them.
  put_u16(info, privilege_join_channel);
  put_u32(info, request.privilege_expire_s);
  if (publisher) {
    for (const uint16_t privilege : {privilege_publish_audio, privilege_publish_video, privilege_publish_data}) {
      put_u16(info, privilege);
      put_u32(info, request.privilege_expire_s);
    }
  }
  put_string(info, request.channel);
  put_string(info, request.account);
  return info;
}

// Reads Agora's wire format; any read past the end makes the whole reader fail.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  uint16_t u16() {
    if (!take(2)) return 0;
    return static_cast<uint16_t>(byte(0) | byte(1) << 8);
  }
  uint32_t u32() {
    if (!take(4)) return 0;
    return static_cast<uint32_t>(byte(0)) | static_cast<uint32_t>(byte(1)) << 8 | static_cast<uint32_t>(byte(2)) << 16 |
           static_cast<uint32_t>(byte(3)) << 24;
  }
  std::string string() {
    const uint16_t size = u16();
    if (!take(size)) return {};
    return std::string(bytes_.substr(taken_at_, size));
  }
  std::string_view rest() const { return bytes_.substr(position_); }
  bool ok() const { return ok_; }
  bool at_end() const { return position_ == bytes_.size(); }

 private:
  bool take(size_t size) {
    if (!ok_ || bytes_.size() - position_ < size) {
      ok_ = false;
      return false;
    }
    taken_at_ = position_;
    position_ += size;
    return true;
  }
  uint32_t byte(size_t index) const { return static_cast<uint8_t>(bytes_[taken_at_ + index]); }

  std::string_view bytes_;
  size_t position_ = 0;
  size_t taken_at_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string account_from_uid(uint32_t uid) { return uid == 0 ? std::string() : std::to_string(uid); }

bool is_valid_app_key(std::string_view key) {
  if (key.size() != app_key_chars) return false;
  for (const char c : key) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::optional<std::string> rtc_token_payload(const RtcTokenRequest& request, uint32_t issue_ts, uint32_t salt) {
  if (!is_valid_request(request)) return std::nullopt;
  const std::string info = signing_info(request, issue_ts, salt);
  const Digest signature = hmac_sha256(digest_bytes(signing_key(request.app_certificate, issue_ts, salt)), info);
  std::string payload;
  put_string(payload, digest_bytes(signature));
  payload += info;
  assert(payload.size() <= payload_bytes_max);
  return payload;
}

std::optional<std::string> build_rtc_token(const RtcTokenRequest& request, uint32_t issue_ts, uint32_t salt) {
  const auto payload = rtc_token_payload(request, issue_ts, salt);
  if (!payload) return std::nullopt;
  // zlib's compress() at its default level, as Agora's builders use it: the output bytes
  // (and so the token text) depend on it.
  uLongf compressed_size = compressBound(payload->size());
  std::string compressed(compressed_size, '\0');
  const int status = compress(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                              reinterpret_cast<const Bytef*>(payload->data()), payload->size());
  assert(status == Z_OK);  // cannot fail with a compressBound-sized buffer, short of memory
  if (status != Z_OK) return std::nullopt;
  compressed.resize(compressed_size);
  return std::string(token_version) + base64::encode_standard(compressed);
}

std::optional<TokenIssue> new_token_issue() {
  const std::time_t now = std::time(nullptr);
  assert(now > 0 && now <= static_cast<std::time_t>(UINT32_MAX));
  uint32_t salt = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&salt), sizeof salt) != 1) return std::nullopt;
  return TokenIssue{static_cast<uint32_t>(now), salt};
}

std::optional<std::string> token_payload(std::string_view token) {
  if (token.size() > token_chars_max || token.substr(0, token_version.size()) != token_version) return std::nullopt;
  const auto compressed = base64::decode_standard(token.substr(token_version.size()));
  if (!compressed) return std::nullopt;
  std::string payload(payload_bytes_max, '\0');
  uLongf payload_size = payload.size();
  uLong compressed_size = compressed->size();
  const int status = uncompress2(reinterpret_cast<Bytef*>(payload.data()), &payload_size,
                                 reinterpret_cast<const Bytef*>(compressed->data()), &compressed_size);
  // Z_BUF_ERROR here means the body is larger than payload_bytes_max; bytes after the zlib
  // stream are refused too.
  if (status != Z_OK || compressed_size != compressed->size()) return std::nullopt;
  payload.resize(payload_size);
  return payload;
}

std::optional<ParsedToken> parse_token(std::string_view token) {
  const auto payload = token_payload(token);
  if (!payload) return std::nullopt;
  Reader reader(*payload);
  ParsedToken parsed;
  parsed.signature = reader.string();
  parsed.signing_info = std::string(reader.rest());
  parsed.app_id = reader.string();
  parsed.issue_ts = reader.u32();
  parsed.expire = reader.u32();
  parsed.salt = reader.u32();
  const uint16_t service_count = reader.u16();
  for (uint16_t i = 0; i < service_count && reader.ok(); ++i) {
    TokenService service;
    service.type = reader.u16();
    if (service.type != rtc_service_type) return std::nullopt;  // other layouts are not ours to guess
    const uint16_t privilege_count = reader.u16();
    for (uint16_t j = 0; j < privilege_count && reader.ok(); ++j) {
      const uint16_t privilege = reader.u16();
      service.privileges[privilege] = reader.u32();
    }
    service.channel = reader.string();
    service.account = reader.string();
    parsed.services.push_back(std::move(service));
  }
  if (!reader.ok() || !reader.at_end()) return std::nullopt;
  return parsed;
}

bool token_signature_matches(const ParsedToken& token, std::string_view app_certificate) {
  const Digest expected =
      hmac_sha256(digest_bytes(signing_key(app_certificate, token.issue_ts, token.salt)), token.signing_info);
  return token.signature.size() == expected.size() &&
         constant_time_equal(token.signature.data(), expected.data(), expected.size());
}

}  // namespace tl::agora
