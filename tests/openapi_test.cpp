// api/openapi.yaml must list exactly the routes the router serves, and be what /openapi.yaml sends.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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

// The entries of every flow mapping ({a: 1, b: 2}) on the line that are not `key: value`. An
// unquoted comma inside a value ({description: one, two}) splits it, and YAML reads the rest as a
// key with a null value: the description is cut short and the object gets a stray property.
std::vector<std::string> flow_entries_without_a_key(const std::string& line) {
  std::vector<std::string> bad;
  // Only `key: ...` lines and list items hold flow collections; other lines are prose of a block
  // description, where braces are text.
  static const std::regex key_line(R"(^\s*(- )?[^\s:]+:(\s.*)?$)");
  if (!std::regex_match(line, key_line)) return bad;
  auto previous_non_space = [&line](size_t i) {
    while (i > 0 && line[i - 1] == ' ') --i;
    return i == 0 ? '\0' : line[i - 1];
  };
  std::vector<char> frames;  // '{' or '['
  std::string entry;
  bool entry_has_key = false;
  char quote = 0;
  auto end_entry = [&] {
    const bool blank = entry.find_first_not_of(' ') == std::string::npos;
    if (!frames.empty() && frames.back() == '{' && !blank && !entry_has_key) bad.push_back(entry);
    entry.clear();
    entry_has_key = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      entry += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if ((c == '{' || c == '[') && std::string_view(":,[{-").find(previous_non_space(i)) != std::string_view::npos) {
      frames.push_back(c);
      entry.clear();
      entry_has_key = false;
      continue;
    } else if ((c == '}' || c == ']') && !frames.empty()) {
      end_entry();
      frames.pop_back();
      entry_has_key = true;  // the closed collection was the value of the entry around it
      continue;
    } else if (c == ',' && !frames.empty()) {
      end_entry();
      continue;
    } else if (c == ':' && (i + 1 == line.size() || line[i + 1] == ' ')) {
      entry_has_key = true;
    }
    entry += c;
  }
  return bad;
}

// The response statuses each operation ("METHOD /path") declares.
std::map<std::string, std::set<int>> documented_statuses(std::string_view yaml) {
  std::map<std::string, std::set<int>> statuses;
  std::istringstream lines{std::string(yaml)};
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex method_line(R"(^    (get|post):\s*$)");
  const std::regex status_line(R"(^        '(\d{3})':.*$)");
  std::string line;
  std::string path;
  std::string operation;
  while (std::getline(lines, line)) {
    if (line == "components:") break;
    std::smatch match;
    if (std::regex_match(line, match, path_line)) {
      path = match[1];
      operation.clear();
    } else if (std::regex_match(line, match, method_line)) {
      std::string method = match[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      operation = method + " " + path;
    } else if (!operation.empty() && std::regex_match(line, match, status_line)) {
      statuses[operation].insert(std::stoi(match[1]));
    }
  }
  return statuses;
}

// The values of the Error schema's `code` enum.
std::set<std::string> documented_error_codes(std::string_view yaml) {
  const std::regex enum_line(R"(^\s*code: \{type: string, enum: \[([a-z_, ]+)\]\}\s*$)");
  std::istringstream lines{std::string(yaml)};
  std::string line;
  std::set<std::string> codes;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (!std::regex_match(line, match, enum_line)) continue;
    std::istringstream items{match[1].str()};
    for (std::string code; std::getline(items >> std::ws, code, ',');) codes.insert(code);
  }
  return codes;
}

// "/api/bookings/{id}/accept" with every parameter replaced by `value`.
std::string fill_params(std::string_view pattern, std::string_view value) {
  static const std::regex param(R"(\{[^}]+\})");
  return std::regex_replace(std::string(pattern), param, std::string(value));
}

}  // namespace

TEST_CASE("EveryStatusTheServerAnswersIsDeclaredForItsOperation") {
  // Generated clients treat an undeclared status as an unexpected error: each route is probed with
  // the refusals every client can meet (no token, each role, a malformed body, path and query,
  // an oversized body), and each answer's status must be in the document.
  ApiFixture api;
  const auto declared = documented_statuses(api::openapi_document());
  const std::set<std::string> codes = documented_error_codes(api::openapi_document());
  REQUIRE(codes.contains("invalid_request"));
  // A client decoding the error body with the enum fails on a code it does not list.
  auto check_code = [&](const ClientResponse& r) {
    if (r.status < 400 || r.body.empty()) return;
    const std::string code(std::string_view(api.json(r.body)["error"]["code"]));
    CHECK_MESSAGE(codes.contains(code), "error code not in the Error enum: ", code);
  };
  const std::string oversized(70 * 1024, ' ');
  for (const std::string& route : api.router->routes()) {
    CAPTURE(route);
    REQUIRE_MESSAGE(declared.contains(route), "no responses documented");
    const std::set<int>& statuses = declared.at(route);
    const std::string method = route.substr(0, route.find(' '));
    const std::string pattern = route.substr(route.find(' ') + 1);
    const bool post = method == "POST";
    if (!pattern.starts_with("/api/")) {
      CHECK(statuses.contains(api.call(method, pattern).status));
      continue;
    }
    const std::vector<std::string> targets = {fill_params(pattern, "bk_nope"), fill_params(pattern, "%ZZ"),
                                              fill_params(pattern, "bk_nope") + "?limit=0"};
    for (const std::string& target : targets) {
      for (const std::optional<Actor>& who : {std::optional<Actor>{}, std::optional<Actor>{student()}, std::optional<Actor>{tutor()},
                                             std::optional<Actor>{admin()}}) {
        CAPTURE(target);
        const auto r = api.call(method, target, post ? "{not json" : "", who);
        CHECK_MESSAGE(statuses.contains(r.status), "undeclared status ", r.status, ": ", r.body);
        check_code(r);
      }
    }
    if (post) {
      const auto r = api.call(method, fill_params(pattern, "bk_nope"), oversized, admin());
      CHECK_MESSAGE(statuses.contains(r.status), "undeclared status ", r.status, ": ", r.body);
      check_code(r);
    }
    // Rules no probe above reaches: every POST takes an Idempotency-Key (409 on a conflict).
    if (post) CHECK(statuses.contains(409));
  }
  // Answers before any route: a method the server does not know, headers over the limit.
  const auto unknown_method = api.call("FOO", "/healthz");
  CHECK(unknown_method.status == 501);
  check_code(unknown_method);
  const auto big_headers = api.call("GET", "/healthz", "", std::nullopt, {{"X-Padding", std::string(20 * 1024, 'a')}});
  CHECK(big_headers.status == 431);
  check_code(big_headers);
}

TEST_CASE("TheTestClockWithoutTheFlagIsADeclared404") {
  ApiFixture api(example_start - 2 * ms_per_day, /*test_clock=*/false);
  const auto r = api.call("POST", "/api/test/clock", R"({"advance_seconds":1})", admin());
  CHECK(r.status == 404);
  CHECK(documented_statuses(api::openapi_document()).at("POST /api/test/clock").contains(404));
}

TEST_CASE("EveryOperationHasADefaultResponse") {
  // Counted per operation: an operation line, then its responses, each closed by a default.
  std::istringstream lines{std::string(api::openapi_document())};
  const std::regex method_line(R"(^    (get|post):\s*$)");
  std::string line;
  int operations = 0;
  int defaults = 0;
  while (std::getline(lines, line)) {
    if (line == "components:") break;
    if (std::regex_match(line, method_line)) ++operations;
    if (line == "        default: {$ref: '#/components/responses/Unexpected'}") ++defaults;
  }
  CHECK(operations >= 27);
  CHECK(defaults == operations);
}

TEST_CASE("TheOpenApiDocumentHasNoValueSplitByAnUnquotedCommaAndNoResponsesByReference") {
  // Checked by a full OpenAPI 3.1 validator (openapi-spec-validator 0.9.0: no errors) when the
  // document last changed; these are the two mistakes it found, kept out by a test that needs
  // no Python packages.
  std::istringstream lines{std::string(api::openapi_document())};
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    for (const std::string& entry : flow_entries_without_a_key(line)) {
      FAIL_CHECK("line " << number << ": '" << entry << "' is not key: value (quote a value with a comma)");
    }
    // OpenAPI 3.1 lets each response be a reference, not the whole responses object.
    CHECK_MESSAGE(line.find("responses: {$ref") == std::string::npos, "line ", number, ": ", line);
  }
  CHECK(flow_entries_without_a_key("  '201': {description: one, two, content: {a: b}}") == std::vector<std::string>{" two"});
  CHECK(flow_entries_without_a_key("  - {description: 'one, two', enum: [a, b], x: {y: z}}").empty());
  CHECK(flow_entries_without_a_key("    Errors are {\"error\": {\"code\", \"message\"}}.").empty());  // prose
}

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
