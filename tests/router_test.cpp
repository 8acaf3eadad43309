// Router: precedence of exact segments over parameters, parameter decoding, 404 and bad paths,
// and the log_route it hands to the server.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "api/router.h"

namespace {

// A router whose handlers answer with the name of the route they belong to.
struct NamedRoutes {
  tl::Router router;
  void add(std::string_view method, std::string_view pattern) {
    router.add(method, pattern, [name = std::string(pattern)](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
      tl::HttpResponse response;
      response.body = name;
      respond(std::move(response));
    });
  }
  // The pattern that answered, or the status when none did.
  std::string call(std::string method, std::string path, tl::HttpResponse* full = nullptr) {
    tl::HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    std::optional<tl::HttpResponse> answer;
    router.handler()(std::move(request), [&](tl::HttpResponse response) { answer = std::move(response); });
    REQUIRE(answer.has_value());
    if (full) *full = *answer;
    return answer->status == 200 ? answer->body : std::to_string(answer->status);
  }
};

}  // namespace

TEST_CASE("ExactSegmentWinsOverParameter") {
  NamedRoutes routes;
  routes.add("GET", "/api/bookings/{id}");
  routes.add("GET", "/api/bookings/mine");
  CHECK(routes.call("GET", "/api/bookings/mine") == "/api/bookings/mine");
  CHECK(routes.call("GET", "/api/bookings/bk_1") == "/api/bookings/{id}");
}

TEST_CASE("ParameterIsTriedWhenTheExactBranchLeadsNowhere") {
  NamedRoutes routes;
  routes.add("GET", "/api/bookings/mine/summary");
  routes.add("GET", "/api/bookings/{id}/events");
  CHECK(routes.call("GET", "/api/bookings/mine/events") == "/api/bookings/{id}/events");
  CHECK(routes.call("GET", "/api/bookings/mine/summary") == "/api/bookings/mine/summary");
}

TEST_CASE("MethodSelectsAmongRoutesOfOnePath") {
  NamedRoutes routes;
  routes.router.add("GET", "/api/bookings", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
    tl::HttpResponse response;
    response.body = "list";
    respond(std::move(response));
  });
  routes.router.add("POST", "/api/bookings", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
    tl::HttpResponse response;
    response.body = "create";
    respond(std::move(response));
  });
  CHECK(routes.call("GET", "/api/bookings") == "list");
  CHECK(routes.call("POST", "/api/bookings") == "create");
}

TEST_CASE("WrongMethodOrUnknownPathIsNotFoundWithTheJsonError") {
  NamedRoutes routes;
  routes.add("POST", "/api/bookings/{id}/accept");
  tl::HttpResponse response;
  CHECK(routes.call("GET", "/api/bookings/bk_1/accept", &response) == "404");
  CHECK(response.body == R"({"error":{"code":"not_found","message":"no such route"}})");
  CHECK(response.log_route == "unmatched");
  CHECK(routes.call("POST", "/api/bookings/bk_1/reject") == "404");
  CHECK(routes.call("POST", "/api/bookings/bk_1") == "404");
  CHECK(routes.call("POST", "/api/bookings/bk_1/accept/more") == "404");
  CHECK(routes.call("post", "/api/bookings/bk_1/accept") == "404");  // methods are case-sensitive
}

TEST_CASE("EmptySegmentsNeverMatchParameters") {
  NamedRoutes routes;
  routes.add("GET", "/api/bookings/{id}");
  CHECK(routes.call("GET", "/api/bookings/") == "404");
  CHECK(routes.call("GET", "/api/bookings//") == "404");
  CHECK(routes.call("GET", "/api//bookings/x") == "404");
}

TEST_CASE("RootPathMatchesOnlyTheRootRoute") {
  NamedRoutes routes;
  routes.add("GET", "/");
  routes.add("GET", "/healthz");
  CHECK(routes.call("GET", "/") == "/");
  CHECK(routes.call("GET", "/healthz") == "/healthz");
  CHECK(routes.call("GET", "/healthz/") == "404");
}

TEST_CASE("ParamsAreDecodedPerSegmentAndReturnedByName") {
  tl::Router router;
  router.add("GET", "/api/sessions/{bookingId}/x/{other}", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond) {});
  const tl::RouteMatch match = router.match("GET", "/api/sessions/bk%2F1/x/a%20b");
  REQUIRE(match.outcome == tl::RouteMatch::Outcome::matched);
  CHECK(match.params.size() == 2);
  CHECK(match.params.get("bookingId") == "bk/1");  // %2F stays inside its segment
  CHECK(match.params.get("other") == "a b");
  CHECK(match.params.find("missing") == nullptr);
  CHECK(match.log_route == "GET /api/sessions/{bookingId}/x/{other}");
}

TEST_CASE("LiteralSegmentsMatchAfterDecoding") {
  NamedRoutes routes;
  routes.add("GET", "/healthz");
  CHECK(routes.call("GET", "/%68ealthz") == "/healthz");
}

TEST_CASE("PathsThatAreNotAbsoluteAreBadRequests") {
  NamedRoutes routes;
  routes.add("GET", "/api/bookings/{id}");
  for (const char* path : {"relative/path", ""}) {
    CAPTURE(path);
    tl::HttpResponse response;
    CHECK(routes.call("GET", path, &response) == "400");
    CHECK(response.body.find("\"invalid_request\"") != std::string::npos);
  }
}

TEST_CASE("AParamThatDoesNotDecodeStillMatchesItsRouteMarkedMalformed") {
  // The route answers 400 itself, after its token and role checks (401 and 403 come first).
  tl::Router router;
  router.add("GET", "/api/bookings/{id}", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond) {});
  router.add("GET", "/api/bookings/mine", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond) {});
  for (const char* path : {"/api/bookings/%zz", "/api/bookings/%4", "/api/bookings/%00", "/api/bookings/a%0Ab",
                           "/api/bookings/%FF"}) {
    CAPTURE(path);
    const tl::RouteMatch match = router.match("GET", path);
    REQUIRE(match.outcome == tl::RouteMatch::Outcome::matched);
    CHECK(match.log_route == "GET /api/bookings/{id}");
    CHECK(match.params.malformed());
  }
  CHECK_FALSE(router.match("GET", "/api/bookings/bk_1").params.malformed());
  // A literal segment never matches an undecodable one: no route.
  CHECK(router.match("GET", "/api/%zz/mine").outcome == tl::RouteMatch::Outcome::no_route);
}

TEST_CASE("PathsTooLongOrTooDeepForAnyRouteAreNotFound") {
  NamedRoutes routes;
  routes.add("GET", "/api/bookings/{id}");
  std::string deep = "/";
  for (size_t i = 0; i <= tl::path_segments_max; ++i) deep += "a/";
  CHECK(routes.call("GET", deep) == "404");
  CHECK(routes.call("GET", "/api/bookings/" + std::string(tl::path_bytes_max, 'a')) == "404");
}

TEST_CASE("RouteHandlerGetsParamsAndTheResponseGetsItsPattern") {
  tl::Router router;
  std::string seen_id;
  router.add("POST", "/api/bookings/{id}/accept", [&](tl::HttpRequest&& request, tl::RouteParams params, tl::Respond respond) {
    seen_id = params.get("id");
    tl::HttpResponse response;
    response.body = request.body;
    respond(std::move(response));
  });
  tl::HttpRequest request;
  request.method = "POST";
  request.path = "/api/bookings/bk_42/accept";
  request.body = "{}";
  std::optional<tl::HttpResponse> answer;
  router.handler()(std::move(request), [&](tl::HttpResponse response) { answer = std::move(response); });
  REQUIRE(answer.has_value());
  CHECK(seen_id == "bk_42");
  CHECK(answer->body == "{}");
  CHECK(answer->log_route == "POST /api/bookings/{id}/accept");
}

TEST_CASE("RouteHandlerMayChooseItsOwnLogRoute") {
  tl::Router router;
  router.add("GET", "/metrics", [](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
    tl::HttpResponse response;
    response.log_route = "scrape";
    respond(std::move(response));
  });
  tl::HttpRequest request;
  request.method = "GET";
  request.path = "/metrics";
  std::optional<tl::HttpResponse> answer;
  router.handler()(std::move(request), [&](tl::HttpResponse response) { answer = std::move(response); });
  REQUIRE(answer.has_value());
  CHECK(answer->log_route == "scrape");
}
