// api/openapi.yaml must list exactly the routes the router serves, and be what /openapi.yaml sends.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <sstream>

#include "api/openapi_document.h"
#include "support/api_fixture.h"

using namespace tl;
using namespace tl::test;

namespace {

// "METHOD /path" for every operation under `paths:` (two-space path keys, four-space methods).
std::set<std::string> documented_operations(std::string_view yaml) {
  std::set<std::string> operations;
  std::istringstream lines{std::string(yaml)};
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|patch|delete):\s*$)");
  std::string line;
  std::string current_path;
  bool in_paths = false;
  while (std::getline(lines, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (in_paths && !line.empty() && line[0] != ' ') break;  // the next top-level key
    std::smatch match;
    if (std::regex_match(line, match, path_line)) {
      current_path = match[1];
    } else if (std::regex_match(line, match, method_line) && !current_path.empty()) {
      std::string method = match[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      operations.insert(method + " " + current_path);
    }
  }
  return operations;
}

}  // namespace

TEST_CASE("TheOpenApiDocumentListsExactlyTheRoutesTheServerServes") {
  ApiFixture api;  // test-clock mode: every route exists
  const auto routes = api.router->routes();
  const std::set<std::string> served(routes.begin(), routes.end());
  const std::set<std::string> documented = documented_operations(api::openapi_document());
  for (const auto& route : served) CHECK_MESSAGE(documented.contains(route), "not in api/openapi.yaml: ", route);
  for (const auto& operation : documented) CHECK_MESSAGE(served.contains(operation), "documented but not served: ", operation);
  CHECK(served.size() >= 27);
}

TEST_CASE("OpenApiYamlIsServedAsIs") {
  ApiFixture api;
  const auto r = api.call("GET", "/openapi.yaml");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "application/yaml");
  CHECK(r.body == api::openapi_document());
  CHECK(r.body.starts_with("openapi: 3.1.0"));
}
