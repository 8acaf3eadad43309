#include "api/app.h"

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
}

}  // namespace tl::api
