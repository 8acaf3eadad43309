#pragma once
// The machinery every route shares: authentication and role guards (API.md precedence: 401 token,
// then 403 role), JSON responses, command submission with Idempotency-Key, list paging.
#include <functional>
#include <optional>
#include <string>

#include "api/app_config.h"
#include "api/http_types.h"
#include "api/query_string.h"
#include "api/router.h"
#include "engine/engine.h"

namespace tl::api {

// The one /api/ route without a token: the payment provider signs its body instead.
constexpr std::string_view payment_webhook_path = "/api/payments/webhook";

// Which roles may use a route at all (a bit per role).
enum RoleSet : uint8_t { students = 1, tutors = 2, admins = 4, parties = students | tutors, anyone = 7 };
// Whether `role` is in `roles` (the system role is in none).
bool role_allowed(Role role, uint8_t roles);

using GuardedHandler = std::function<void(const Actor& caller, HttpRequest&& request, RouteParams params, Respond respond)>;

// 401 `unauthorized` without a valid token (HS256, exp checked against the wall clock), 403
// `forbidden` when the caller's role is not in `roles`; otherwise calls `handler`.
RouteHandler guarded(const AppConfig& config, uint8_t roles, GuardedHandler handler);

HttpResponse json_response(int status, std::string body, std::string_view user = {});
HttpResponse error_http(int status, std::string_view code, std::string_view message, std::string_view user = {});
// From the engine's answer (status and body as stored).
HttpResponse reply_response(Reply reply, std::string_view user);

// The token of an `Authorization: Bearer <token>` header (scheme name in any case); nullopt when
// the header is missing or another scheme.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// A command for the engine, as a route builds it.
struct CommandRequest {
  Actor actor;
  CommandBody body;
  Renderer render;
  // Optional: turns a 2xx body into what is sent (start/join add the fresh `rtc` credentials,
  // which are never stored: not in the log, not in the idempotency store).
  std::function<std::string(std::string)> decorate;
};

// Checks the Idempotency-Key (1..255 characters of UTF-8 text, no control characters; else
// 400), submits the command with a fresh command id, and answers through `respond` when the
// engine has decided and the batch is durable. A full queue answers 503 `busy`; a stopping
// engine 503 `unavailable`.
void submit(Engine& engine, const HttpRequest& request, CommandRequest command, Respond respond);

// The request's Idempotency-Key as the engine stores it: nullopt without the header; an error
// response in `error` (and nullopt) when the header is there but not 1..255 characters of text.
std::optional<IdempotencyTag> read_idempotency(const HttpRequest& request, std::string_view user, HttpResponse* error);

// `?limit=` (1..200, default 50) and `?cursor=`; returns an error response in `error` when bad.
struct Paging {
  size_t limit = 50;
  std::string cursor;
};
constexpr size_t page_size_max = 200;
constexpr size_t page_size_default = 50;
std::optional<Paging> read_paging(const QueryParams& query, HttpResponse* error);
std::optional<QueryParams> read_query(const HttpRequest& request, HttpResponse* error);

// A list route's query: its parameters and its paging, or the 400 to answer in `error`.
struct ListRequest {
  QueryParams query;
  Paging paging;
};
std::optional<ListRequest> read_list_request(const HttpRequest& request, HttpResponse* error);

// A page of event objects from `records` (read with limit + 1, so that one more than the page
// tells whether there is a next page); the cursor is the next record's position, or its stream
// version for a stream's history (CursorKind events and booking_events).
enum class EventCursor { position, version };
// Each event's data is shown as the contract wants it (projections/event_view.h); the currency of
// bookings whose events carry bare amounts is read from the engine's state.
std::string event_page_json(std::vector<EventRecord>& records, size_t limit, EventCursor cursor, const Engine& engine);

// {"data":[...],"next_cursor":"..."|null} around already-rendered items.
std::string page_json(const std::string& items_joined, const std::optional<std::string>& next_cursor);

// A cursor or position given as a decimal number (no sign, no spaces); nullopt otherwise.
std::optional<uint64_t> parse_decimal(std::string_view text);

// Cursors are opaque to clients. Each list marks its own with a letter ("b12"), so that a cursor
// from another list, or a bare number, is refused (400) rather than read as a place it is not.
// (Notifications use their ids, "n_42", as cursors.)
enum class CursorKind : char { bookings = 'b', booking_events = 'v', events = 'p', withdrawals = 'w' };
std::string make_cursor(CursorKind kind, uint64_t value);
// The value of a cursor of `kind`; nullopt for anything else.
std::optional<uint64_t> read_cursor(CursorKind kind, std::string_view text);
// Whether a cursor of a list that only grows (a user's bookings or withdrawals, whose cursor is a
// count of entries) can be one the list gave: 1 to its size.
inline bool cursor_within(uint64_t cursor, size_t list_size) { return cursor >= 1 && cursor <= list_size; }
// The 400 for a cursor the list did not give.
HttpResponse foreign_cursor(const Actor& caller);

}  // namespace tl::api
