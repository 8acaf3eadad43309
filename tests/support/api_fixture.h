#pragma once
// The real HTTP server, application and engine in this process, on an ephemeral loopback port,
// with a manual (test) clock; requests go over real sockets with the test HTTP client.
#include <memory>
#include <optional>
#include <string>

#include <simdjson.h>

#include "api/app.h"
#include "api/server.h"
#include "support/engine_fixture.h"
#include "support/http_client.h"

namespace tl::test {

constexpr std::string_view test_jwt_secret = "test-secret-test-secret-test-secret-0123";
constexpr std::string_view test_webhook_secret = "whsec-test-0123456789";

class ApiFixture {
 public:
  explicit ApiFixture(TimeMs start = example_start - 2 * ms_per_day, bool test_clock = true);
  ~ApiFixture();

  void start();
  void stop();
  void restart() { stop(); start(); }

  // A token for `who`, valid for an hour of wall-clock time.
  static std::string token_for(const Actor& who, int64_t ttl_s = 3600);
  // One request on a fresh connection; `as` adds a valid token for that user.
  ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                      const std::optional<Actor>& as = std::nullopt, const HeaderList& extra = {});
  ClientResponse webhook(std::string_view body, std::optional<std::string> signature = std::nullopt);
  void advance_seconds(int64_t seconds);

  // Shortcuts for journeys; each CHECKs the expected status.
  std::string create_booking(const Actor& by_student, std::string_view tutor_id, TimeMs start, int64_t price = 35000);
  void accept_and_pay(const std::string& booking_id, const Actor& by_tutor, const Actor& by_student);

  // Parses `text` as JSON (fails the test if it is not) and keeps it alive until the next parse.
  simdjson::dom::element json(const std::string& text);

  logtest::TempFolder folder;
  api::AppConfig config;
  EngineOptions engine_options;
  TimeMs clock_start;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<api::App> app;
  std::unique_ptr<Router> router;
  std::unique_ptr<Server> server;
  uint16_t port = 0;

 private:
  simdjson::dom::parser parser_;
  std::string parsed_text_;
};

}  // namespace tl::test
