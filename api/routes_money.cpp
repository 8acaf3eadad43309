// A tutor's money: balance and withdrawals; admins complete or fail withdrawals.

#include "api/app.h"
#include "api/fresh_id.h"
#include "api/json_body.h"
#include "api/renderers.h"
#include "api/route_support.h"
#include "projections/views.h"

namespace tl::api {

void App::add_money_routes(Router& router) {
  add_route(router, "GET", "/api/me/balance", guarded(config_, tutors, [this](const Actor& caller, HttpRequest&&, RouteParams,
                                                                        Respond respond) {
    respond(engine_.read([&](const State& state) {
      return json_response(200, views::balances_json(state, caller.id), actor_text(caller));
    }));
  }));

  add_route(router, "POST", "/api/me/withdrawals", guarded(config_, tutors, [this](const Actor& caller, HttpRequest&& request,
                                                                             RouteParams, Respond respond) {
    RequestWithdrawal command;
    const Status parsed = read_json_body(request.body, {json_field("amount", command.amount),
                                                        json_field("destination", command.destination,
                                                                   engine_.policy().destination_bytes_max)});
    if (!parsed.is_ok()) return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
    command.withdrawal_id = random_id("wd_");
    submit(engine_, request, {caller, std::move(command), [](const RenderInput& in) { return withdrawal_reply(in, 201); }, {}},
           std::move(respond));
  }));

  // Not in the contract's table, but its list conventions name withdrawals: the tutor's own,
  // newest first.
  add_route(router, "GET", "/api/me/withdrawals", guarded(config_, tutors, [this](const Actor& caller, HttpRequest&& request,
                                                                            RouteParams, Respond respond) {
    HttpResponse error;
    auto list_request = read_list_request(request, &error);
    if (!list_request) return respond(std::move(error));
    const Paging* paging = &list_request->paging;
    std::optional<uint64_t> cursor;
    if (!paging->cursor.empty()) {
      cursor = read_cursor(CursorKind::withdrawals, paging->cursor);
      if (!cursor) return respond(foreign_cursor(caller));
    }
    respond(engine_.read([&](const State& state) {
      std::string items;
      std::optional<std::string> next;
      const auto found = state.withdrawals_by_tutor.find(caller.id);
      const size_t size = found != state.withdrawals_by_tutor.end() ? found->second.size() : 0;
      if (cursor && !cursor_within(*cursor, size)) return foreign_cursor(caller);
      if (found != state.withdrawals_by_tutor.end()) {
        size_t end = cursor ? *cursor : size;
        for (size_t taken = 0; end > 0; --end, ++taken) {
          if (taken == paging->limit) {
            next = make_cursor(CursorKind::withdrawals, end);
            break;
          }
          if (taken > 0) items += ',';
          views::append_withdrawal(items, state.withdrawals[found->second[end - 1]]);
        }
      }
      return json_response(200, page_json(items, next), actor_text(caller));
    }));
  }));

  add_route(router, "POST", "/api/admin/withdrawals/{id}/complete", guarded(config_, admins, [this](const Actor& caller,
                                                                                            HttpRequest&& request,
                                                                                            RouteParams params,
                                                                                            Respond respond) {
    if (const Status parsed = read_json_body(request.body, {}); !parsed.is_ok()) {
      return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
    }
    submit(engine_, request,
           {caller, CompleteWithdrawal{params.get("id")}, [](const RenderInput& in) { return withdrawal_reply(in, 200); }, {}},
           std::move(respond));
  }));

  add_route(router, "POST", "/api/admin/withdrawals/{id}/fail", guarded(config_, admins, [this](const Actor& caller,
                                                                                        HttpRequest&& request,
                                                                                        RouteParams params, Respond respond) {
    std::optional<std::string> reason;
    const Status parsed = read_json_body(request.body, {json_field("reason", reason, engine_.policy().reason_bytes_max)});
    if (!parsed.is_ok()) return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
    submit(engine_, request,
           {caller, FailWithdrawal{params.get("id"), reason.value_or("")}, [](const RenderInput& in) { return withdrawal_reply(in, 200); }, {}},
           std::move(respond));
  }));
}

}  // namespace tl::api
