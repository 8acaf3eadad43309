#include "api/jwt.h"

#include <cassert>
#include <utility>

#include <simdjson.h>

#include "api/base64.h"
#include "api/hmac_sha256.h"
#include "projections/json_text.h"

namespace tl {
namespace {

namespace ondemand = simdjson::ondemand;

// The only header we write, and the only algorithm we accept.
constexpr std::string_view header_json = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view accepted_algorithm = "HS256";

struct Rejection {
  JwtFailure failure;
  std::string message;
};

// One parser per thread, reused; capped so a hostile token cannot make it grow.
ondemand::parser& thread_parser() {
  thread_local ondemand::parser parser(jwt_token_bytes_max);
  return parser;
}

// simdjson reads up to SIMDJSON_PADDING bytes past the end; give it zeros to read.
size_t pad_for_simdjson(std::string& json) {
  const size_t size = json.size();
  json.resize(size + simdjson::SIMDJSON_PADDING, '\0');
  return size;
}

bool has_trailing_content(ondemand::document& document) {
  const char* location = nullptr;
  return document.current_location().get(location) == simdjson::SUCCESS;
}

std::optional<Rejection> check_header(std::string header) {
  const size_t size = pad_for_simdjson(header);
  ondemand::document document;
  ondemand::object object;
  if (thread_parser().iterate(header.data(), size, header.size()).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return Rejection{JwtFailure::malformed, "header is not a JSON object"};
  }
  bool algorithm_seen = false;
  std::string algorithm;
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Rejection{JwtFailure::malformed, "header is not a JSON object"};
    }
    if (key == "alg") {
      // A second `alg` could be read differently by another parser: refuse it.
      if (algorithm_seen) return Rejection{JwtFailure::bad_algorithm, "header has two alg members"};
      algorithm_seen = true;
      std::string_view value;
      if (field.value().get_string().get(value) != simdjson::SUCCESS) {
        return Rejection{JwtFailure::bad_algorithm, "alg is not a string"};
      }
      algorithm = value;
    } else if (key == "crit") {
      // RFC 7515 4.1.11: extensions we do not understand must make the token invalid.
      return Rejection{JwtFailure::malformed, "header has critical extensions"};
    }
  }
  if (has_trailing_content(document)) return Rejection{JwtFailure::malformed, "header has trailing content"};
  if (!algorithm_seen) return Rejection{JwtFailure::bad_algorithm, "header has no alg"};
  if (algorithm != accepted_algorithm) return Rejection{JwtFailure::bad_algorithm, "alg is not HS256"};
  return std::nullopt;
}

// Reads the signed payload's claims with exact types. `now_unix_s` is needed for `nbf`.
std::optional<Rejection> read_claims(std::string payload, int64_t now_unix_s, JwtClaims& claims) {
  const size_t size = pad_for_simdjson(payload);
  ondemand::document document;
  ondemand::object object;
  if (thread_parser().iterate(payload.data(), size, payload.size()).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return Rejection{JwtFailure::malformed, "payload is not a JSON object"};
  }
  const Rejection duplicate{JwtFailure::bad_claims, "a claim appears twice"};
  bool sub_seen = false, role_seen = false, exp_seen = false, nbf_seen = false;
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return Rejection{JwtFailure::malformed, "payload is not a JSON object"};
    }
    std::string_view text;
    int64_t number = 0;
    if (key == "sub") {
      if (std::exchange(sub_seen, true)) return duplicate;
      if (field.value().get_string().get(text) != simdjson::SUCCESS || !is_valid_jwt_subject(text)) {
        return Rejection{JwtFailure::bad_claims, "sub is not a string of 1-64 [A-Za-z0-9_-]"};
      }
      claims.sub = text;
    } else if (key == "role") {
      if (std::exchange(role_seen, true)) return duplicate;
      const auto role = field.value().get_string().get(text) == simdjson::SUCCESS ? parse_jwt_role(text) : std::nullopt;
      if (!role) return Rejection{JwtFailure::bad_claims, "role is not \"student\", \"tutor\" or \"admin\""};
      claims.role = *role;
    } else if (key == "exp") {
      if (std::exchange(exp_seen, true)) return duplicate;
      // get_int64 refuses 1.5, 1e10, "123" and integers beyond int64: exactly what we want.
      if (field.value().get_int64().get(number) != simdjson::SUCCESS) {
        return Rejection{JwtFailure::bad_claims, "exp is not an integer"};
      }
      claims.exp = number;
    } else if (key == "nbf") {
      if (std::exchange(nbf_seen, true)) return duplicate;
      if (field.value().get_int64().get(number) != simdjson::SUCCESS) {
        return Rejection{JwtFailure::bad_claims, "nbf is not an integer"};
      }
      if (number > now_unix_s) return Rejection{JwtFailure::bad_claims, "token is not valid yet (nbf)"};
    }
  }
  if (has_trailing_content(document)) return Rejection{JwtFailure::malformed, "payload has trailing content"};
  if (!sub_seen || !role_seen || !exp_seen) return Rejection{JwtFailure::bad_claims, "sub, role and exp are required"};
  return std::nullopt;
}

std::string signing_input_signature(std::string_view signing_input, std::string_view secret) {
  const Digest mac = hmac_sha256(secret, signing_input);
  return base64::encode_url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

}  // namespace

std::string_view jwt_role_name(JwtRole role) {
  switch (role) {
    case JwtRole::student: return "student";
    case JwtRole::tutor: return "tutor";
    case JwtRole::admin: return "admin";
  }
  assert(false && "unknown JwtRole");
  return "";
}

std::optional<JwtRole> parse_jwt_role(std::string_view name) {
  for (const JwtRole role : {JwtRole::student, JwtRole::tutor, JwtRole::admin}) {
    if (jwt_role_name(role) == name) return role;
  }
  return std::nullopt;
}

bool is_valid_jwt_subject(std::string_view subject) {
  if (subject.empty() || subject.size() > jwt_subject_bytes_max) return false;
  for (const char c : subject) {
    const bool allowed =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

std::string_view jwt_failure_name(JwtFailure failure) {
  switch (failure) {
    case JwtFailure::malformed: return "malformed";
    case JwtFailure::bad_algorithm: return "bad_algorithm";
    case JwtFailure::bad_signature: return "bad_signature";
    case JwtFailure::expired: return "expired";
    case JwtFailure::bad_claims: return "bad_claims";
  }
  assert(false && "unknown JwtFailure");
  return "";
}

JwtResult JwtResult::accepted(JwtClaims claims) {
  JwtResult result;
  result.claims_ = std::move(claims);
  return result;
}

JwtResult JwtResult::rejected(JwtFailure failure, std::string message) {
  JwtResult result;
  result.failure_ = failure;
  result.message_ = std::move(message);
  return result;
}

const JwtClaims& JwtResult::claims() const {
  assert(ok());
  return *claims_;
}

JwtFailure JwtResult::failure() const {
  assert(!ok());
  return failure_;
}

std::string sign_jwt(const JwtClaims& claims, std::string_view secret) {
  assert(is_valid_jwt_subject(claims.sub));
  assert(!secret.empty());
  std::string payload = "{";
  json::append_key(payload, "sub");
  json::append_string(payload, claims.sub);
  payload += ',';
  json::append_key(payload, "role");
  json::append_string(payload, jwt_role_name(claims.role));
  payload += ',';
  json::append_key(payload, "exp");
  json::append_int(payload, claims.exp);
  payload += '}';

  std::string token = base64::encode_url(header_json);
  token += '.';
  token += base64::encode_url(payload);
  const std::string signature = signing_input_signature(token, secret);
  token += '.';
  token += signature;
  assert(token.size() <= jwt_token_bytes_max);
  return token;
}

JwtResult verify_jwt(std::string_view token, std::string_view secret, int64_t now_unix_s) {
  assert(!secret.empty());
  if (token.size() > jwt_token_bytes_max) return JwtResult::rejected(JwtFailure::malformed, "token is too long");
  const size_t first_dot = token.find('.');
  const size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return JwtResult::rejected(JwtFailure::malformed, "token does not have exactly three parts");
  }
  const std::string_view header_text = token.substr(0, first_dot);
  const std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_text = token.substr(second_dot + 1);

  auto header = base64::decode_url(header_text);
  if (!header) return JwtResult::rejected(JwtFailure::malformed, "header is not base64url");
  if (auto rejection = check_header(std::move(*header))) {
    return JwtResult::rejected(rejection->failure, std::move(rejection->message));
  }

  // The signature is checked before a single byte of the payload is decoded or parsed.
  const auto signature = base64::decode_url(signature_text);
  if (!signature) return JwtResult::rejected(JwtFailure::malformed, "signature is not base64url");
  const Digest expected = hmac_sha256(secret, token.substr(0, second_dot));
  if (signature->size() != expected.size() ||
      !constant_time_equal(signature->data(), expected.data(), expected.size())) {
    return JwtResult::rejected(JwtFailure::bad_signature, "signature does not match");
  }

  auto payload = base64::decode_url(payload_text);
  if (!payload) return JwtResult::rejected(JwtFailure::malformed, "payload is not base64url");
  JwtClaims claims;
  if (auto rejection = read_claims(std::move(*payload), now_unix_s, claims)) {
    return JwtResult::rejected(rejection->failure, std::move(rejection->message));
  }
  if (claims.exp <= now_unix_s) return JwtResult::rejected(JwtFailure::expired, "token has expired");
  return JwtResult::accepted(std::move(claims));
}

}  // namespace tl
