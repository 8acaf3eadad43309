// Abuse (issue 8): idle connection floods, pipelining, huge numbers, deep nesting, invalid UTF-8.
// The server stays up and keeps serving others within its named limits.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "support/api_fixture.h"
#include "support/server_process.h"

using namespace tl;
using namespace tl::test;

namespace {

int connect_idle(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

size_t raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

const std::string booking_body = fmt::format(
    R"({{"tutor_id":"t1","subject":"Maths","scheduled_start":"{}","duration_minutes":60,"price":{{"amount":35000,"currency":"ETB"}}}})",
    format_rfc3339(example_start));

}  // namespace

TEST_CASE("ThousandsOfIdleConnectionsDoNotStopOthersFromBeingServed") {
  // The server is a separate process, so each side has its own file descriptors.
  const size_t fds = raise_fd_limit();
  const size_t idle_wanted = std::min<size_t>(3000, fds > 400 ? fds - 300 : 100);
  logtest::TempFolder folder;
  ServerProcess server(folder.sub("data"), free_loopback_port(), {},
                       {"TL_JWT_SECRET=abuse-secret-abuse-secret-abuse-secret", "TL_WEBHOOK_SECRET=w"});
  REQUIRE_MESSAGE(server.start(), server.log());
  std::vector<int> idle;
  for (size_t i = 0; i < idle_wanted; ++i) {
    const int fd = connect_idle(server.port());
    if (fd < 0) break;
    idle.push_back(fd);
  }
  MESSAGE(idle.size(), " idle connections open");
  CHECK(idle.size() >= std::min<size_t>(idle_wanted, 1000));
  const auto started = std::chrono::steady_clock::now();
  auto client = HttpClient::connect(server.port());
  REQUIRE(client);
  const auto health = client->request("GET", "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  for (int fd : idle) close(fd);
  CHECK(server.stop() == 0);
}

TEST_CASE("HugeNumbersDeepNestingAndInvalidUtf8Are400AndTheServerStaysUp") {
  ApiFixture api;
  const Actor s1 = student("s1");
  const std::vector<std::string> bodies = {
      R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":1e400,"price":{"amount":1,"currency":"ETB"}})",
      R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":60,"price":{"amount":123456789012345678901234567890,"currency":"ETB"}})",
      R"({"tutor_id":"t1","subject":"Maths","scheduled_start":"2026-11-24T10:00:00Z","duration_minutes":-9223372036854775809,"price":{"amount":1,"currency":"ETB"}})",
      R"({"extra":)" + std::string(5000, '[') + std::string(5000, ']') + "}",
      R"({"extra":)" + [] {
        std::string nested;
        for (int i = 0; i < 3000; ++i) nested += R"({"a":)";
        nested += "1";
        nested += std::string(3000, '}');
        return nested;
      }() + "}",
      "{\"tutor_id\":\"t1\",\"subject\":\"M\xc3\x28ths\"}",       // invalid UTF-8 sequence
      "{\"tutor_id\":\"t1\",\"subject\":\"\xed\xa0\x80\"}",        // a UTF-16 surrogate in UTF-8
      "{\"subject\":\"" + std::string(60 * 1024, 'x') + "\"}",   // a field far over its limit
      std::string("{\"a\":\"\0\"}", 10),                          // a raw NUL inside a string
  };
  for (const auto& body : bodies) {
    CAPTURE(body.substr(0, 120));
    const auto r = api.call("POST", "/api/bookings", body, s1);
    CHECK(r.status == 400);
    CHECK(r.body.find("invalid_request") != std::string::npos);
  }
  CHECK(api.engine->log().head().position == 0);
  CHECK(api.call("POST", "/api/bookings", booking_body, s1).status == 201);
}

TEST_CASE("PipelinedRequestsAreAnsweredInOrderOnOneConnection") {
  ApiFixture api;
  auto client = HttpClient::connect(api.port);
  REQUIRE(client);
  const std::string token = "Bearer " + ApiFixture::token_for(student("s1"));
  constexpr int pipelined = 50;
  for (int i = 0; i < pipelined; ++i) {
    if (i % 2 == 0) {
      REQUIRE(client->send_request("POST", "/api/bookings", booking_body,
                                   {{"Authorization", token}, {"Idempotency-Key", fmt::format("p{}", i)}}));
    } else {
      REQUIRE(client->send_request("GET", "/api/bookings?limit=1", "", {{"Authorization", token}}));
    }
  }
  for (int i = 0; i < pipelined; ++i) {
    const auto r = client->read_response();
    REQUIRE(r);
    CHECK(r->status == (i % 2 == 0 ? 201 : 200));
  }
  CHECK(api.engine->log().head().position == pipelined / 2);
}
