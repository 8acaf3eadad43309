// Sessions: start, join, end, status (the seed app's routes).
#include "api/app.h"
#include "api/json_body.h"
#include "api/renderers.h"
#include "api/rtc_answer.h"
#include "api/route_support.h"
#include "projections/views.h"

namespace tl::api {

void App::add_session_routes(Router& router) {
  auto start_or_join = [this](bool start) {
    return guarded(config_, parties, [this, start](const Actor& caller, HttpRequest&& request, RouteParams params,
                                                   Respond respond) {
      if (const Status parsed = read_json_body(request.body, {}); !parsed.is_ok()) {
        return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
      }
      const std::string& id = params.get("bookingId");
      const std::string channel = session_channel(id);
      // Made here, on an I/O thread, not on the writer: a token costs tens of microseconds.
      agora::RtcAnswer fresh = agora::new_rtc_answer(config_.agora, agora::RtcGrant{channel, caller.id, config_.rtc_expire_s});
      Renderer render = [issue = fresh.issue](const RenderInput& input) {
        Reply reply = session_reply(input);
        if (reply.status == 200) reply.body = agora::with_stored_rtc(std::move(reply.body), issue);
        return reply;
      };
      auto decorate = [credentials = config_.agora, channel, account = caller.id, expire_s = config_.rtc_expire_s,
                       fresh = std::move(fresh)](std::string body) {
        return agora::sent_rtc_answer(std::move(body), credentials, agora::RtcGrant{channel, account, expire_s}, fresh);
      };
      CommandBody body = start ? CommandBody{StartSession{id}} : CommandBody{JoinSession{id}};
      submit(engine_, request, {caller, std::move(body), std::move(render), std::move(decorate)}, std::move(respond));
    });
  };
  add_route(router, "POST", "/api/sessions/{bookingId}/start", start_or_join(true));
  add_route(router, "POST", "/api/sessions/{bookingId}/join", start_or_join(false));

  add_route(router, "POST", "/api/sessions/{bookingId}/end", guarded(config_, parties, [this](const Actor& caller, HttpRequest&& request,
                                                                                     RouteParams params, Respond respond) {
    std::optional<std::string> notes;
    const Status parsed = read_json_body(request.body, {json_field("notes", notes, engine_.policy().notes_bytes_max)});
    if (!parsed.is_ok()) return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
    submit(engine_, request,
           {caller, EndSession{params.get("bookingId"), notes.value_or("")}, [](const RenderInput& in) { return booking_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "GET", "/api/sessions/{bookingId}/status", guarded(config_, anyone, [this](const Actor& caller, HttpRequest&&,
                                                                                       RouteParams params, Respond respond) {
    const TimeMs now = engine_.now();
    respond(engine_.read([&](const State& state) {
      const Booking* booking = state.find_booking(params.get("bookingId"));
      if (booking == nullptr) return error_http(404, "not_found", "no such booking", actor_text(caller));
      const bool party = caller.role == Role::admin || (caller.role == Role::student && caller.id == booking->student_id) ||
                         (caller.role == Role::tutor && caller.id == booking->tutor_id);
      if (!party) return error_http(403, "forbidden", "not a party to this booking", actor_text(caller));
      return json_response(200, views::session_status_json(*booking, engine_.policy(), now), actor_text(caller));
    }));
  }));
}

}  // namespace tl::api
