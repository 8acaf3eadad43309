#pragma once
// Method + path routing without regular expressions: patterns like "/api/bookings/{id}/accept" are
// split into segments and kept in a trie, registered once at start-up. At each segment an exact
// (literal) segment is tried before a `{param}`, backtracking if the literal branch does not lead
// to a route, so "/api/bookings/mine" beats "/api/bookings/{id}" while "/api/bookings/mine/events"
// can still reach "/api/bookings/{id}/events". Unknown path or wrong method: 404 `not_found`.
// Thread safety: add() every route before the server starts; match() and handler() are then
// read-only and safe from all I/O threads.
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_types.h"

namespace tl {

constexpr size_t route_params_max = 4;
constexpr size_t path_segments_max = 16;
constexpr size_t path_bytes_max = 2048;

// The `{name}` values of a matched route, percent-decoded, in pattern order.
class RouteParams {
 public:
  // The value of `name`; the route must have that parameter (asserted: a programmer error).
  const std::string& get(std::string_view name) const;
  // The value of `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  size_t size() const { return size_; }
  void add(std::string_view name, std::string value);  // `name` must outlive this object

  // A value did not percent-decode (bad escape, control character, invalid UTF-8): it is kept
  // raw so the route still matches and can check the token and role first (401 and 403 come
  // before 400 in the contract's order); the route must then answer 400 without reading it.
  bool malformed() const { return malformed_; }
  void mark_malformed() { malformed_ = true; }

 private:
  std::array<std::pair<std::string_view, std::string>, route_params_max> entries_{};
  size_t size_ = 0;
  bool malformed_ = false;
};

// Handles a routed request. The same rules as `Handler` (never block, respond exactly once).
using RouteHandler = std::function<void(HttpRequest&& request, RouteParams params, Respond respond)>;

struct RouteMatch {
  enum class Outcome { matched, no_route, bad_path };
  Outcome outcome = Outcome::no_route;
  RouteParams params;
  const RouteHandler* handler = nullptr;  // when matched
  std::string_view log_route;             // "POST /api/bookings/{id}/accept" when matched
  std::shared_ptr<const std::string> shared_log_route;  // the same text, owned
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `method` + `pattern`; patterns start with '/', `{name}` fills a whole segment, at most
  // route_params_max of them. Registering the same method and pattern shape twice is a programmer
  // error (asserted; in release builds the first one stays).
  void add(std::string_view method, std::string_view pattern, RouteHandler handler);

  // Matches a raw (not yet decoded) path. bad_path: not an absolute path. A path longer than
  // path_bytes_max or deeper than path_segments_max fits no route (no_route). A segment that does
  // not decode is matched as it stands: captured by a `{param}`, the match has
  // params.malformed() set; no literal segment can equal it.
  RouteMatch match(std::string_view method, std::string_view raw_path) const;

  // Answers requests no route matched, instead of the plain 404 (the app checks the token of
  // unknown /api/ paths first: 401 comes before 404 in the contract's order).
  void set_unmatched(RouteHandler handler) { unmatched_ = std::move(handler); }

  // A server Handler dispatching to the routes: 404 `not_found` ("no such route") for unknown
  // paths and methods (or the unmatched handler's answer), 400 `invalid_request` for paths that
  // are not absolute. A match with malformed params goes to its route, which answers 400 after
  // its own checks (api/route_support.h: guarded).
  // Sets `log_route` on the response to the route's pattern (or "unmatched") unless the route
  // handler set one. The router must outlive the returned handler.
  Handler handler() const;
  // The route pattern a request would take ("POST /api/bookings/{id}/accept"), or "unmatched":
  // for the log and metrics of requests refused before routing (ServerOptions::route_of).
  std::function<std::string(std::string_view method, std::string_view path)> route_namer() const;

  // Every registered route as "METHOD /pattern", in registration order (the OpenAPI test compares
  // them with api/openapi.yaml).
  std::vector<std::string> routes() const;

  // The log_route of requests no route matched: one label value, never the raw path.
  static constexpr std::string_view unmatched_log_route = "unmatched";

 private:
  struct Node;
  struct Route;
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  RouteHandler unmatched_;  // empty: the plain 404
};

}  // namespace tl
