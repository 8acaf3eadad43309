// Reading the ledger: a user's notifications, the global log (admin), the digest (admin).
#include <algorithm>

#include <fmt/format.h>

#include "api/app.h"
#include "api/route_support.h"
#include "projections/json_text.h"
#include "projections/views.h"

namespace tl::api {
namespace {

// A notification id ("n_42") or a bare position ("42").
std::optional<uint64_t> parse_position(std::string_view text) {
  if (text.starts_with("n_")) text.remove_prefix(2);
  return parse_decimal(text);
}

}  // namespace

void App::add_feed_routes(Router& router) {
  // Oldest first; ?after= (a notification id or position) or ?cursor= continue after it.
  add_route(router, "GET", "/api/me/notifications", guarded(config_, anyone, [this](const Actor& caller, HttpRequest&& request,
                                                                              RouteParams, Respond respond) {
    HttpResponse error;
    auto list_request = read_list_request(request, &error);
    if (!list_request) return respond(std::move(error));
    const QueryParams* query = &list_request->query;
    const Paging* paging = &list_request->paging;
    // A client that keeps its ?after= and adds each page's cursor must move on: with both, the
    // list continues after the later of the two (a cursor is never before the after it came from).
    uint64_t after = 0;
    if (auto given = query->get("after"); given && !given->empty()) {
      auto position = parse_position(*given);
      if (!position) return respond(error_http(400, "invalid_request", "after: must be a notification id", actor_text(caller)));
      after = *position;
    }
    if (!paging->cursor.empty()) {
      auto position = paging->cursor.starts_with("n_") ? parse_position(paging->cursor) : std::nullopt;
      if (!position) return respond(foreign_cursor(caller));
      after = std::max(after, *position);
    }
    respond(engine_.read([&](const State& state) {
      std::string items;
      std::optional<std::string> next;
      // A user is a role and an id: a student token "t1" does not read tutor t1's notifications,
      // and an admin has none.
      const std::vector<Notification>* found = nullptr;
      if (role_allowed(caller.role, parties)) {
        const auto& lists = state.notifications_of(caller.role);
        if (auto entry = lists.find(caller.id); entry != lists.end()) found = &entry->second;
      }
      if (found != nullptr) {
        const auto& list = *found;
        auto it = std::upper_bound(list.begin(), list.end(), after,
                                   [](uint64_t position, const Notification& n) { return position < n.position; });
        for (size_t taken = 0; it != list.end(); ++it, ++taken) {
          if (taken == paging->limit) {
            next = fmt::format("n_{}", std::prev(it)->position);
            break;
          }
          if (taken > 0) items += ',';
          views::append_notification(items, render_notification(state, *it, caller.role));
        }
      }
      return json_response(200, page_json(items, next), actor_text(caller));
    }));
  }));

  // The global log from ?from= (inclusive, default 1; 0, the start of the log too, as clients that
  // count from 0 send it), or from ?cursor=.
  add_route(router, "GET", "/api/events", guarded(config_, admins, [this](const Actor& caller, HttpRequest&& request, RouteParams,
                                                                    Respond respond) {
    HttpResponse error;
    auto list_request = read_list_request(request, &error);
    if (!list_request) return respond(std::move(error));
    const QueryParams* query = &list_request->query;
    const Paging* paging = &list_request->paging;
    int64_t from = 1;
    if (query->has("from")) {
      if (const Status status = query->read_int64("from", from, 0, INT64_MAX); !status.is_ok()) {
        return respond(error_http(400, "invalid_request", status.message(), actor_text(caller)));
      }
      from = std::max<int64_t>(from, 1);  // positions start at 1
    }
    if (!paging->cursor.empty()) {
      auto cursor = read_cursor(CursorKind::events, paging->cursor);
      if (!cursor || *cursor == 0) return respond(foreign_cursor(caller));
      from = static_cast<int64_t>(*cursor);
    }
    std::vector<EventRecord> records;
    const Status read = engine_.log().read_all(static_cast<uint64_t>(from), paging->limit + 1, &records);
    if (!read.is_ok()) return respond(error_http(503, "storage_unavailable", "the log could not be read", actor_text(caller)));
    respond(json_response(200, event_page_json(records, paging->limit, EventCursor::position, engine_), actor_text(caller)));
  }));

  add_route(router, "GET", "/api/ledger/digest", guarded(config_, admins, [this](const Actor& caller, HttpRequest&&, RouteParams,
                                                                           Respond respond) {
    const LogHead head = engine_.log().head();
    std::string body = "{\"position\":";
    json::append_int(body, static_cast<int64_t>(head.position));
    body += ",\"hash\":";
    json::append_string(body, to_hex(head.hash));
    body += '}';
    respond(json_response(200, std::move(body), actor_text(caller)));
  }));
}

}  // namespace tl::api
