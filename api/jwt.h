#pragma once
// JSON Web Tokens, HS256 only (API.md, Conventions: Auth). Claims are exactly what the API
// needs: `sub` (user id), `role`, `exp` (unix seconds). The secret never appears in a result
// or message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

constexpr size_t jwt_token_bytes_max = 4096;
constexpr size_t jwt_subject_bytes_max = 64;

enum class JwtRole { student, tutor, admin };

std::string_view jwt_role_name(JwtRole role);
// "student", "tutor" or "admin" exactly; nullopt otherwise.
std::optional<JwtRole> parse_jwt_role(std::string_view name);
// 1 to 64 characters of [A-Za-z0-9_-].
bool is_valid_jwt_subject(std::string_view subject);

struct JwtClaims {
  std::string sub;
  JwtRole role = JwtRole::student;
  int64_t exp = 0;  // unix seconds; the token is valid while now < exp

  bool operator==(const JwtClaims&) const = default;
};

// Why a token was refused. The HTTP layer answers 401 `unauthorized` for every one of them;
// the reason and message are for logs.
enum class JwtFailure { malformed, bad_algorithm, bad_signature, expired, bad_claims };

std::string_view jwt_failure_name(JwtFailure failure);

class JwtResult {
 public:
  static JwtResult accepted(JwtClaims claims);
  static JwtResult rejected(JwtFailure failure, std::string message);

  bool ok() const { return claims_.has_value(); }
  const JwtClaims& claims() const;  // only when ok()
  JwtFailure failure() const;       // only when !ok()
  const std::string& message() const { return message_; }

 private:
  std::optional<JwtClaims> claims_;
  JwtFailure failure_ = JwtFailure::malformed;
  std::string message_;
};

// Signs `claims` (which must be valid: subject and role as above) with HMAC-SHA256.
// The result is `base64url(header).base64url(payload).base64url(signature)`, no padding, with
// header {"alg":"HS256","typ":"JWT"} and payload {"sub":...,"role":...,"exp":...}.
std::string sign_jwt(const JwtClaims& claims, std::string_view secret);

// Checks, in this order: size and shape, header (`alg` exactly "HS256"), signature (constant
// time, before anything in the payload is read), claims (exact types), then expiry
// (`exp <= now_unix_s` is expired). `secret` must not be empty.
JwtResult verify_jwt(std::string_view token, std::string_view secret, int64_t now_unix_s);

}  // namespace tl
