#include "support/api_fixture.h"

#include <chrono>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "api/jwt.h"
#include "api/openapi_document.h"
#include "api/webhook_signature.h"

namespace tl::test {

ApiFixture::ApiFixture(TimeMs start, bool test_clock) : clock_start(start) {
  config.jwt_secret = std::string(test_jwt_secret);
  config.webhook_secret = std::string(test_webhook_secret);
  config.test_clock = test_clock;
  config.openapi_yaml = std::string(api::openapi_document());
  engine_options.data_dir = folder.sub("data");
  this->start();
}

ApiFixture::~ApiFixture() { stop(); }

void ApiFixture::start() {
  REQUIRE(engine == nullptr);
  const Status opened = Engine::open(engine_options, std::make_unique<ManualClock>(clock_start), &engine);
  REQUIRE_MESSAGE(opened.is_ok(), opened.to_string());
  auto metrics = std::make_shared<MetricsRegistry>();
  app = std::make_unique<api::App>(*engine, config, metrics);
  router = std::make_unique<Router>();
  app->add_routes(*router);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.io_threads = 2;
  options.metrics = metrics;
  options.log_sink = [](std::string_view) {};  // keep test output readable
  options.route_of = router->route_namer();
  server = std::make_unique<Server>(options, router->handler());
  const Status started = server->start();
  REQUIRE_MESSAGE(started.is_ok(), started.to_string());
  port = server->port();
}

void ApiFixture::stop() {
  if (server) server->stop();
  server.reset();
  if (engine) {
    clock_start = engine->now();
    engine->stop();
  }
  engine.reset();
  app.reset();
  router.reset();
}

std::string ApiFixture::token_for(const Actor& who, int64_t ttl_s) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  JwtRole role = JwtRole::student;
  if (who.role == Role::tutor) role = JwtRole::tutor;
  if (who.role == Role::admin) role = JwtRole::admin;
  return sign_jwt(JwtClaims{who.id, role, now + ttl_s}, test_jwt_secret);
}

ClientResponse ApiFixture::call(std::string_view method, std::string_view target, std::string_view body,
                                const std::optional<Actor>& as, const HeaderList& extra) {
  auto client = HttpClient::connect(port);
  REQUIRE(client);
  HeaderList headers = extra;
  if (as) headers.emplace_back("Authorization", "Bearer " + token_for(*as));
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  auto response = client->request(method, target, body, headers);
  REQUIRE_MESSAGE(response, client->last_error());
  return *response;
}

ClientResponse ApiFixture::webhook(std::string_view body, std::optional<std::string> signature) {
  HeaderList headers;
  headers.emplace_back("x-chapa-signature", signature.value_or(sign_webhook(body, test_webhook_secret)));
  return call("POST", "/api/payments/webhook", body, std::nullopt, headers);
}

void ApiFixture::advance_seconds(int64_t seconds) {
  const auto response = call("POST", "/api/test/clock", fmt::format(R"({{"advance_seconds":{}}})", seconds), admin());
  REQUIRE_MESSAGE(response.status == 200, response.body);
}

std::string ApiFixture::create_booking(const Actor& by_student, std::string_view tutor_id, TimeMs start, int64_t price) {
  const auto response = call("POST", "/api/bookings",
                             fmt::format(R"({{"tutor_id":"{}","subject":"Mathematics","scheduled_start":"{}",)"
                                         R"("duration_minutes":60,"price":{{"amount":{},"currency":"ETB"}}}})",
                                         tutor_id, format_rfc3339(start), price),
                             by_student);
  REQUIRE_MESSAGE(response.status == 201, response.body);
  return std::string{std::string_view(json(response.body)["id"])};
}

void ApiFixture::accept_and_pay(const std::string& booking_id, const Actor& by_tutor, const Actor& by_student) {
  auto response = call("POST", "/api/bookings/" + booking_id + "/accept", "", by_tutor);
  REQUIRE_MESSAGE(response.status == 200, response.body);
  response = call("POST", "/api/bookings/" + booking_id + "/checkout", "", by_student);
  REQUIRE_MESSAGE(response.status == 200, response.body);
  auto checkout = json(response.body);
  const std::string tx_ref{std::string_view(checkout["tx_ref"])};
  const int64_t amount = int64_t(checkout["amount"]["amount"]);
  const std::string body = fmt::format(
      R"({{"event":"charge.success","tx_ref":"{}","amount":"{}","currency":"ETB","status":"success","reference":"chapa-{}"}})",
      tx_ref, format_decimal_amount(amount, *Currency::parse("ETB")), booking_id);
  response = webhook(body);
  REQUIRE_MESSAGE(response.status == 200, response.body);
  REQUIRE(response.body == R"({"accepted":true})");
}

simdjson::dom::element ApiFixture::json(const std::string& text) {
  parsed_text_ = text;
  simdjson::dom::element element;
  const auto error = parser_.parse(parsed_text_).get(element);
  REQUIRE_MESSAGE(error == simdjson::SUCCESS, "not JSON: ", text);
  return element;
}

}  // namespace tl::test
