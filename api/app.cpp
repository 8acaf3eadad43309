#include "api/app.h"

namespace tl::api {

App::App(Engine& engine, AppConfig config, std::shared_ptr<MetricsRegistry> metrics)
    : engine_(engine), config_(std::move(config)), metrics_(std::move(metrics)) {
  register_engine_metrics();
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
