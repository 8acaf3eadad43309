#include "api/app.h"

#include "api/http_errors.h"
#include "api/route_support.h"

namespace tl::api {

App::App(Engine& engine, AppConfig config, std::shared_ptr<MetricsRegistry> metrics)
    : engine_(engine), config_(std::move(config)), metrics_(std::move(metrics)) {
  register_engine_metrics();
}

void App::add_route(Router& router, std::string_view method, std::string_view pattern, RouteHandler handler) {
  if (config_.read_only_replica && method != "GET") {
    handler = [primary = config_.primary_url](HttpRequest&&, RouteParams, Respond respond) {
      HttpResponse response = error_http(
          405, "read_only_replica",
          primary.empty() ? "this is a read-only replica; send writes to the primary"
                          : "this is a read-only replica; send writes to the primary at " + primary);
      response.headers.emplace_back("Allow", "GET");
      if (!primary.empty()) response.headers.emplace_back("Location", primary);
      respond(std::move(response));
    };
  }
  router.add(method, pattern, std::move(handler));
}

void App::add_routes(Router& router) {
  add_booking_routes(router);
  add_session_routes(router);
  add_payment_routes(router);
  add_money_routes(router);
  add_feed_routes(router);
  add_system_routes(router);
  // An unknown path under /api/ needs a valid token too: without one the answer is 401, as for
  // every /api/ route (401 comes before 404), so probing for routes teaches nothing.
  RouteHandler not_found_after_token = guarded(config_, anyone, [](const Actor& caller, HttpRequest&&, RouteParams,
                                                                   Respond respond) {
    respond(error_http(404, "not_found", "no such route", actor_text(caller)));
  });
  router.set_unmatched([not_found_after_token = std::move(not_found_after_token)](HttpRequest&& request,
                                                                                 RouteParams params, Respond respond) {
    if (!request.path.starts_with("/api/") || request.path == payment_webhook_path) {
      return respond(not_found_response("no such route"));
    }
    not_found_after_token(std::move(request), std::move(params), std::move(respond));
  });
}

}  // namespace tl::api
