#pragma once
// The HTTP application: every route of ../shared/API.md on a Router, over one Engine.
#include <memory>

#include "api/app_config.h"
#include "api/metrics.h"
#include "api/router.h"
#include "engine/engine.h"

namespace tl::api {

class App {
 public:
  App(Engine& engine, AppConfig config, std::shared_ptr<MetricsRegistry> metrics);
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Registers every route of the contract (and /api/test/clock in test-clock mode).
  void add_routes(Router& router);

 private:
  void add_booking_routes(Router& router);
  void add_session_routes(Router& router);
  void add_payment_routes(Router& router);
  void add_money_routes(Router& router);
  void add_feed_routes(Router& router);
  void add_system_routes(Router& router);
  void register_engine_metrics();
  // Registers a route; on a read replica, a write route answers 405 instead.
  void add_route(Router& router, std::string_view method, std::string_view pattern, RouteHandler handler);

  Engine& engine_;
  const AppConfig config_;
  std::shared_ptr<MetricsRegistry> metrics_;
};

}  // namespace tl::api
