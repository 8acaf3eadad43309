// Bookings: create, read, list, accept, decline, cancel, checkout, dispute, rate, resolve, history.

#include <fmt/format.h>

#include "api/app.h"
#include "api/fresh_id.h"
#include "api/json_body.h"
#include "api/renderers.h"
#include "api/route_support.h"
#include "engine/clock.h"
#include "projections/time.h"
#include "projections/views.h"

namespace tl::api {
namespace {

bool may_see(const Actor& caller, const Booking& booking) {
  return caller.role == Role::admin || (caller.role == Role::student && caller.id == booking.student_id) ||
         (caller.role == Role::tutor && caller.id == booking.tutor_id);
}

HttpResponse bad_body(const Status& status, const Actor& caller) {
  return error_http(400, "invalid_request", status.message(), actor_text(caller));
}

}  // namespace

void App::add_booking_routes(Router& router) {
  add_route(router, "POST", "/api/bookings", guarded(config_, students, [this](const Actor& caller, HttpRequest&& request,
                                                                         RouteParams, Respond respond) {
    RequestBooking command;
    std::string scheduled_start;
    const Status parsed = read_json_body(request.body, {json_field("tutor_id", command.tutor_id, user_id_bytes_max),
                                                        json_field("subject", command.subject, engine_.policy().subject_bytes_max),
                                                        json_field("scheduled_start", scheduled_start, 64),
                                                        json_field("duration_minutes", command.duration_minutes),
                                                        json_field("price", command.price)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    const auto start = parse_rfc3339_to_second(scheduled_start);  // timers and HTTP answers are in whole seconds
    if (!start) {
      return respond(error_http(400, "invalid_request", "scheduled_start: must be an RFC 3339 time such as 2026-11-24T10:00:00Z",
                                actor_text(caller)));
    }
    command.scheduled_start = *start;
    // The wall clock, not the engine's: the id's time only orders new streams (api/fresh_id.h).
    command.booking_id = time_ordered_id("bk_", static_cast<uint64_t>(SystemClock().now()));
    submit(engine_, request, {caller, std::move(command), [](const RenderInput& in) { return booking_reply(in, 201); }, {}},
           std::move(respond));
  }));

  add_route(router, "GET", "/api/bookings/{id}", guarded(config_, anyone, [this](const Actor& caller, HttpRequest&&,
                                                                           RouteParams params, Respond respond) {
    respond(engine_.read([&](const State& state) {
      const Booking* booking = state.find_booking(params.get("id"));
      if (booking == nullptr) return error_http(404, "not_found", "no such booking", actor_text(caller));
      if (!may_see(caller, *booking)) return error_http(403, "forbidden", "not a party to this booking", actor_text(caller));
      return json_response(200, views::booking_json(*booking), actor_text(caller));
    }));
  }));

  // The caller's own bookings, newest first; ?status=, ?limit=, ?cursor= (opaque). A user is a
  // role and an id, as on every booking route: ?role= may only name the caller's own role (a
  // student token "s1" never lists the bookings of tutor "s1"), and an admin is party to none.
  add_route(router, "GET", "/api/bookings", guarded(config_, anyone, [this](const Actor& caller, HttpRequest&& request,
                                                                      RouteParams, Respond respond) {
    HttpResponse error;
    auto list_request = read_list_request(request, &error);
    if (!list_request) return respond(std::move(error));
    const QueryParams* query = &list_request->query;
    const Paging* paging = &list_request->paging;
    // The whole query is checked (400) before the role it names (403), as the contract's order has it.
    const std::optional<std::string_view> role = query->get("role");
    if (role && *role != "student" && *role != "tutor") {
      return respond(error_http(400, "invalid_request", "role: must be student or tutor", actor_text(caller)));
    }
    std::optional<BookingStatus> status_filter;
    if (auto status = query->get("status")) {
      status_filter = parse_booking_status(*status);
      if (!status_filter) return respond(error_http(400, "invalid_request", "status: not a booking status", actor_text(caller)));
    }
    std::optional<uint64_t> cursor;
    if (!paging->cursor.empty()) {
      cursor = read_cursor(CursorKind::bookings, paging->cursor);
      if (!cursor) return respond(foreign_cursor(caller));
    }
    if (role && *role != role_name(caller.role)) {
      return respond(error_http(403, "forbidden", fmt::format("{} lists only its own bookings, not those of a {}",
                                                              role_with_article(caller.role), *role),
                                actor_text(caller)));
    }
    respond(engine_.read([&](const State& state) {
      std::string items;
      std::optional<std::string> next;
      const auto& lists = caller.role == Role::tutor ? state.bookings_by_tutor : state.bookings_by_student;
      auto found = role_allowed(caller.role, parties) ? lists.find(caller.id) : lists.end();
      const size_t size = found != lists.end() ? found->second.size() : 0;
      if (cursor && !cursor_within(*cursor, size)) return foreign_cursor(caller);
      if (found != lists.end()) {
        const auto& indexes = found->second;
        size_t end = cursor ? *cursor : indexes.size();
        size_t taken = 0;
        while (end > 0) {
          const Booking& booking = state.bookings[indexes[end - 1]];
          if (!status_filter || booking.status == *status_filter) {
            if (taken == paging->limit) {
              next = make_cursor(CursorKind::bookings, end);
              break;
            }
            if (taken++ > 0) items += ',';
            views::append_booking(items, booking);
          }
          --end;
        }
      }
      return json_response(200, page_json(items, next), actor_text(caller));
    }));
  }));

  add_route(router, "POST", "/api/bookings/{id}/accept", guarded(config_, tutors, [this](const Actor& caller, HttpRequest&& request,
                                                                                  RouteParams params, Respond respond) {
    if (const Status parsed = read_json_body(request.body, {}); !parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request, {caller, AcceptBooking{params.get("id")}, [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/bookings/{id}/decline", guarded(config_, tutors, [this](const Actor& caller, HttpRequest&& request,
                                                                                   RouteParams params, Respond respond) {
    std::optional<std::string> reason;
    const Status parsed = read_json_body(request.body, {json_field("reason", reason, engine_.policy().reason_bytes_max)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request,
           {caller, DeclineBooking{params.get("id"), reason.value_or("")}, [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/bookings/{id}/cancel", guarded(config_, parties, [this](const Actor& caller, HttpRequest&& request,
                                                                                  RouteParams params, Respond respond) {
    std::optional<std::string> reason;
    const Status parsed = read_json_body(request.body, {json_field("reason", reason, engine_.policy().reason_bytes_max)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request,
           {caller, CancelBooking{params.get("id"), reason.value_or("")}, [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/bookings/{id}/checkout", guarded(config_, students, [this](const Actor& caller, HttpRequest&& request,
                                                                                     RouteParams params, Respond respond) {
    if (const Status parsed = read_json_body(request.body, {}); !parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request, {caller, Checkout{params.get("id")}, checkout_reply, {}}, std::move(respond));
  }));

  add_route(router, "POST", "/api/bookings/{id}/dispute", guarded(config_, students, [this](const Actor& caller, HttpRequest&& request,
                                                                                    RouteParams params, Respond respond) {
    std::string reason;
    const Status parsed = read_json_body(request.body, {json_field("reason", reason, engine_.policy().reason_bytes_max)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request,
           {caller, OpenDispute{params.get("id"), std::move(reason)}, [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/bookings/{id}/rating", guarded(config_, students, [this](const Actor& caller, HttpRequest&& request,
                                                                                   RouteParams params, Respond respond) {
    RateSession command{params.get("id"), 0, {}};
    std::optional<std::string> comment;
    const Status parsed = read_json_body(request.body, {json_field("stars", command.stars),
                                                        json_field("comment", comment, engine_.policy().comment_bytes_max)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    command.comment = comment.value_or("");
    submit(engine_, request, {caller, std::move(command), [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/admin/bookings/{id}/resolve", guarded(config_, admins, [this](const Actor& caller, HttpRequest&& request,
                                                                                        RouteParams params, Respond respond) {
    ResolveDispute command{params.get("id"), 0};
    const Status parsed = read_json_body(request.body, {json_field("refund_amount", command.refund_amount)});
    if (!parsed.is_ok()) return respond(bad_body(parsed, caller));
    submit(engine_, request, {caller, std::move(command), [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  // The booking's events from the log, oldest first; ?cursor= is the next stream version.
  add_route(router, "GET", "/api/bookings/{id}/events", guarded(config_, anyone, [this](const Actor& caller, HttpRequest&& request,
                                                                                 RouteParams params, Respond respond) {
    HttpResponse error;
    auto list_request = read_list_request(request, &error);
    if (!list_request) return respond(std::move(error));
    const Paging* paging = &list_request->paging;
    uint64_t from_version = 1;
    if (!paging->cursor.empty()) {
      auto cursor = read_cursor(CursorKind::booking_events, paging->cursor);
      if (!cursor || *cursor == 0 || *cursor > UINT32_MAX) {
        return respond(foreign_cursor(caller));
      }
      from_version = *cursor;
    }
    const std::string& id = params.get("id");
    std::optional<HttpResponse> refused = engine_.read([&](const State& state) -> std::optional<HttpResponse> {
      const Booking* booking = state.find_booking(id);
      if (booking == nullptr) return error_http(404, "not_found", "no such booking", actor_text(caller));
      if (!may_see(caller, *booking)) return error_http(403, "forbidden", "not a party to this booking", actor_text(caller));
      return std::nullopt;
    });
    if (refused) return respond(std::move(*refused));
    std::vector<EventRecord> records;
    const Status read = engine_.log().read_stream(booking_stream(id), static_cast<uint32_t>(from_version), paging->limit + 1, &records);
    if (!read.is_ok()) return respond(error_http(503, "storage_unavailable", "the log could not be read", actor_text(caller)));
    respond(json_response(200, event_page_json(records, paging->limit, EventCursor::version, engine_), actor_text(caller)));
  }));
}

}  // namespace tl::api
