// The HTTP path router (api/router.h) with the contract's routes, and the query string parser
// (api/query_string.h). Input: a method byte, then "<raw path>[?<raw query>]". Properties: a match
// names a registered route with at most route_params_max parameters, each free of '/' only when
// it was not percent-encoded; a parsed query has at most query_params_max pairs and an integer
// read stays in its range.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/query_string.h"
#include "api/router.h"
#include "fuzz_check.h"

namespace {

std::unique_ptr<tl::Router> make_router() {
  auto router = std::make_unique<tl::Router>();
  const tl::RouteHandler ignore = [](tl::HttpRequest&&, tl::RouteParams, tl::Respond) {};
  const std::pair<const char*, const char*> routes[] = {
      {"POST", "/api/bookings"},
      {"GET", "/api/bookings"},
      {"GET", "/api/bookings/mine"},
      {"GET", "/api/bookings/{id}"},
      {"POST", "/api/bookings/{id}/accept"},
      {"POST", "/api/bookings/{id}/decline"},
      {"POST", "/api/bookings/{id}/cancel"},
      {"POST", "/api/bookings/{id}/checkout"},
      {"POST", "/api/bookings/{id}/dispute"},
      {"POST", "/api/bookings/{id}/rating"},
      {"GET", "/api/bookings/{id}/events"},
      {"POST", "/api/payments/webhook"},
      {"POST", "/api/sessions/{bookingId}/start"},
      {"POST", "/api/sessions/{bookingId}/join"},
      {"POST", "/api/sessions/{bookingId}/end"},
      {"GET", "/api/sessions/{bookingId}/status"},
      {"POST", "/api/admin/bookings/{id}/resolve"},
      {"POST", "/api/admin/withdrawals/{id}/complete"},
      {"POST", "/api/admin/withdrawals/{id}/fail"},
      {"GET", "/api/me/balance"},
      {"POST", "/api/me/withdrawals"},
      {"GET", "/api/me/notifications"},
      {"GET", "/api/events"},
      {"GET", "/api/ledger/digest"},
      {"POST", "/api/test/clock"},
      {"GET", "/api/{a}/{b}/{c}/{d}"},
      {"GET", "/metrics"},
  };
  for (const auto& [method, pattern] : routes) router->add(method, pattern, ignore);
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const std::unique_ptr<tl::Router> router = make_router();
  if (size == 0) return 0;
  static const char* const methods[] = {"GET", "POST", "PUT", "DELETE", "get", ""};
  const std::string_view method = methods[bytes[0] % 6];
  const std::string_view target(reinterpret_cast<const char*>(bytes + 1), size - 1);
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  const tl::RouteMatch match = router->match(method, path);
  if (match.outcome == tl::RouteMatch::Outcome::matched) {
    FUZZ_CHECK(match.handler != nullptr);
    FUZZ_CHECK(match.params.size() <= tl::route_params_max);
    FUZZ_CHECK(match.log_route.starts_with(method));
    FUZZ_CHECK(path.size() <= tl::path_bytes_max);
  }

  tl::QueryParams params;
  if (tl::parse_query(query, params).is_ok()) {
    FUZZ_CHECK(params.size() <= tl::query_params_max);
    int64_t limit = 50;
    if (params.read_int64("limit", limit, 1, 200).is_ok()) FUZZ_CHECK(limit >= 1 && limit <= 200);
    (void)params.get("cursor");
  }
  return 0;
}
