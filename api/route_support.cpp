#include "api/route_support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "api/fresh_id.h"
#include "api/jwt.h"
#include "api/jwt_cache.h"
#include "engine/idempotency_codec.h"
#include "engine/record_codec.h"
#include "engine/text_checks.h"
#include "projections/json_text.h"
#include "engine/event_codec.h"
#include "projections/event_view.h"
#include "projections/views.h"

namespace tl::api {
namespace {

constexpr std::string_view bearer_prefix = "Bearer ";

int64_t wall_clock_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

Role role_of(JwtRole role) {
  switch (role) {
    case JwtRole::student: return Role::student;
    case JwtRole::tutor: return Role::tutor;
    case JwtRole::admin: return Role::admin;
  }
  return Role::system;
}

// API.md: "1-255 chars". Characters of UTF-8 text, spaces included (an HTTP parser has already
// dropped those around the value); control characters are not text.
bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > idempotency_key_bytes_max || !is_valid_utf8(key) ||
      has_control_character(key, /*lines=*/false)) {
    return false;
  }
  // A character starts at every byte that is not a UTF-8 continuation byte (10xxxxxx).
  const auto chars =
      std::count_if(key.begin(), key.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  return static_cast<size_t>(chars) <= idempotency_key_chars_max;
}

// SHA-256 over method, path and body: "the same request" of the contract, byte for byte.
Digest request_hash(const HttpRequest& request) {
  Sha256 hasher;
  hasher.update(request.method);
  hasher.update("\n", 1);
  hasher.update(request.path);
  hasher.update("\n", 1);
  hasher.update(request.body);
  return hasher.finish();
}

// A 401 names the scheme to use in `challenge`, the WWW-Authenticate value (RFC 9110 §11.6.1,
// RFC 6750 §3).
HttpResponse unauthorized(std::string_view message, std::string_view challenge) {
  HttpResponse refused = error_http(401, "unauthorized", message);
  refused.headers.emplace_back("WWW-Authenticate", challenge);
  return refused;
}

}  // namespace

bool role_allowed(Role role, uint8_t roles) {
  switch (role) {
    case Role::student: return (roles & students) != 0;
    case Role::tutor: return (roles & tutors) != 0;
    case Role::admin: return (roles & admins) != 0;
    case Role::system: return false;
  }
  return false;
}

HttpResponse json_response(int status, std::string body, std::string_view user) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.log_user = std::string(user);
  return response;
}

HttpResponse error_http(int status, std::string_view code, std::string_view message, std::string_view user) {
  Reply reply = error_reply(status, code, message);
  return json_response(reply.status, std::move(reply.body), user);
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  // The scheme name is case-insensitive (RFC 9110 section 11.1); one space, then the token.
  const std::string_view scheme = authorization.substr(0, bearer_prefix.size());
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  const bool is_bearer = scheme.size() == bearer_prefix.size() &&
                         std::equal(scheme.begin(), scheme.end(), bearer_prefix.begin(),
                                    [&lower](char a, char b) { return lower(a) == lower(b); });
  if (!is_bearer || authorization.size() == bearer_prefix.size()) return std::nullopt;
  return authorization.substr(bearer_prefix.size());
}

HttpResponse reply_response(Reply reply, std::string_view user) {
  return json_response(reply.status, std::move(reply.body), user);
}

RouteHandler guarded(const AppConfig& config, uint8_t roles, GuardedHandler handler) {
  return [&config, roles, handler = std::move(handler)](HttpRequest&& request, RouteParams params, Respond respond) {
    if (request.authorization_repeated) {
      return respond(unauthorized("the request has more than one Authorization header", R"(Bearer error="invalid_request")"));
    }
    const std::optional<std::string_view> token = bearer_token(request.authorization);
    if (!token) return respond(unauthorized("an Authorization: Bearer token is required", "Bearer"));
    const JwtResult verified = thread_token_cache().verify(*token, config.jwt_secret, wall_clock_seconds());
    if (!verified.ok()) {
      // The reason stays out of the answer (it would help a forger) but names the failure kind.
      return respond(unauthorized(fmt::format("token refused: {}", jwt_failure_name(verified.failure())),
                                  R"(Bearer error="invalid_token")"));
    }
    const Actor caller{role_of(verified.claims().role), verified.claims().sub};
    if (!role_allowed(caller.role, roles)) {
      respond(error_http(403, "forbidden", fmt::format("{} may not use this route", role_with_article(caller.role)),
                         actor_text(caller)));
      return;
    }
    if (params.malformed()) {
      respond(error_http(400, "invalid_request", "the request path is malformed", actor_text(caller)));
      return;
    }
    handler(caller, std::move(request), std::move(params), std::move(respond));
  };
}

std::optional<IdempotencyTag> read_idempotency(const HttpRequest& request, std::string_view user, HttpResponse* error) {
  if (!request.idempotency_key) return std::nullopt;
  if (!valid_idempotency_key(*request.idempotency_key)) {
    *error = error_http(400, "invalid_request",
                        "Idempotency-Key: must be 1 to 255 characters of UTF-8 text, without control characters", user);
    return std::nullopt;
  }
  return IdempotencyTag{*request.idempotency_key, request_hash(request)};
}

void submit(Engine& engine, const HttpRequest& request, CommandRequest command, Respond respond) {
  const std::string user = actor_text(command.actor);
  Submission submission;
  HttpResponse refused;
  submission.idempotency = read_idempotency(request, user, &refused);
  if (!submission.idempotency && request.idempotency_key) return respond(std::move(refused));
  submission.command.actor = std::move(command.actor);
  submission.command.command_id = random_id("cmd_");
  submission.command.body = std::move(command.body);
  submission.render = std::move(command.render);
  submission.done = [respond, user, decorate = std::move(command.decorate)](Reply reply) {
    if (decorate && reply.status / 100 == 2) reply.body = decorate(std::move(reply.body));
    respond(reply_response(std::move(reply), user));
  };
  switch (engine.submit(std::move(submission))) {
    case SubmitResult::queued: return;
    case SubmitResult::busy:
      respond(error_http(503, "busy", "the ledger is busy; retry shortly", user));
      return;
    case SubmitResult::stopped:
      respond(error_http(503, "unavailable", "the server is stopping", user));
      return;
    case SubmitResult::read_only:
      respond(error_http(405, "read_only_replica", "this is a read-only replica; send writes to the primary", user));
      return;
  }
}

std::optional<QueryParams> read_query(const HttpRequest& request, HttpResponse* error) {
  QueryParams query;
  if (const Status status = parse_query(request.query, query); !status.is_ok()) {
    *error = error_http(400, "invalid_request", status.message());
    return std::nullopt;
  }
  return query;
}

std::optional<Paging> read_paging(const QueryParams& query, HttpResponse* error) {
  Paging paging;
  int64_t limit = page_size_default;
  if (query.has("limit")) {
    if (const Status status = query.read_int64("limit", limit, 1, page_size_max); !status.is_ok()) {
      *error = error_http(400, "invalid_request", status.message());
      return std::nullopt;
    }
  }
  paging.limit = static_cast<size_t>(limit);
  if (auto cursor = query.get("cursor")) paging.cursor = std::string(*cursor);
  return paging;
}

std::optional<ListRequest> read_list_request(const HttpRequest& request, HttpResponse* error) {
  auto query = read_query(request, error);
  if (!query) return std::nullopt;
  auto paging = read_paging(*query, error);
  if (!paging) return std::nullopt;
  return ListRequest{std::move(*query), std::move(*paging)};
}

std::string event_page_json(std::vector<EventRecord>& records, size_t limit, EventCursor cursor, const Engine& engine) {
  std::optional<std::string> next;
  if (records.size() > limit) {
    next = cursor == EventCursor::version ? make_cursor(CursorKind::booking_events, records[limit].version)
                                          : make_cursor(CursorKind::events, records[limit].position);
    records.resize(limit);
  }
  // Decoded first, so that the few bookings whose currency is needed are read under one lock.
  std::vector<EventData> decoded(records.size());
  std::vector<Status> decode_status(records.size());
  std::vector<std::optional<Currency>> currencies(records.size());
  bool any_needs_currency = false;
  for (size_t i = 0; i < records.size(); ++i) {
    decode_status[i] = decode_event_data(records[i].type, records[i].schema, records[i].data, &decoded[i]);
    any_needs_currency |= decode_status[i].is_ok() && views::needs_booking_currency(decoded[i]);
  }
  if (any_needs_currency) {
    engine.read([&](const State& state) {
      for (size_t i = 0; i < records.size(); ++i) {
        if (!decode_status[i].is_ok() || !views::needs_booking_currency(decoded[i])) continue;
        if (const Booking* booking = state.find_booking(booking_id_of(decoded[i]))) currencies[i] = booking->price.currency;
      }
    });
  }
  std::string items;
  std::string data;
  for (size_t i = 0; i < records.size(); ++i) {
    const EventRecord& record = records[i];
    data.clear();
    if (decode_status[i].is_ok() && (currencies[i] || !views::needs_booking_currency(decoded[i]))) {
      views::append_event_data(data, decoded[i], currencies[i]);
    } else {
      data = record.data;  // not expected (the log was verified at start-up): shown as stored rather than not at all
    }
    if (!items.empty()) items += ',';
    const std::string hash = to_hex(record.hash);
    views::append_event(items, {record.position, record.stream, record.version, record.type, record.at, record.actor,
                                data, hash});
  }
  return page_json(items, next);
}

std::string page_json(const std::string& items_joined, const std::optional<std::string>& next_cursor) {
  std::string out = "{\"data\":[";
  out += items_joined;
  out += "],\"next_cursor\":";
  if (next_cursor) {
    json::append_string(out, *next_cursor);
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

std::optional<uint64_t> parse_decimal(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string make_cursor(CursorKind kind, uint64_t value) { return static_cast<char>(kind) + std::to_string(value); }

HttpResponse foreign_cursor(const Actor& caller) {
  return error_http(400, "invalid_request", "cursor: not a cursor from this list", actor_text(caller));
}

std::optional<uint64_t> read_cursor(CursorKind kind, std::string_view text) {
  if (text.empty() || text.front() != static_cast<char>(kind)) return std::nullopt;
  return parse_decimal(text.substr(1));
}

}  // namespace tl::api
