#include "api/router.h"

#include <cassert>

#include "api/http_errors.h"
#include "api/percent_decode.h"

namespace tl {

struct Router::Route {
  std::string method;
  // "METHOD /pattern"; shared with the Respond wrappers, which may be called after the router is gone
  std::shared_ptr<const std::string> log_route;
  std::vector<std::string> param_names;  // in pattern order
  RouteHandler handler;
};

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;  // few children: a scan is fastest
  std::unique_ptr<Node> param;
  std::vector<const Route*> routes;  // routes ending here, one per method

  Node* literal_child(std::string_view segment) const {
    for (const auto& [text, child] : literals) {
      if (text == segment) return child.get();
    }
    return nullptr;
  }
};

namespace {

// Splits "/a/b/c" into {"a", "b", "c"}; "/" gives one empty segment, "/a/" gives {"a", ""}.
// Returns false when there are more than path_segments_max segments.
bool split_path(std::string_view path, std::array<std::string_view, path_segments_max>& segments, size_t& count) {
  assert(!path.empty() && path[0] == '/');
  count = 0;
  path.remove_prefix(1);
  for (;;) {
    if (count == path_segments_max) return false;
    const size_t slash = path.find('/');
    segments[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_param_segment(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

struct Captures {
  std::array<std::string_view, route_params_max> values{};
  size_t count = 0;
};

}  // namespace

const std::string& RouteParams::get(std::string_view name) const {
  assert(!malformed_ && "a route must refuse malformed params before reading them");
  const std::string* value = find(name);
  assert(value != nullptr && "the route has no such parameter");
  static const std::string empty;
  return value ? *value : empty;
}

const std::string* RouteParams::find(std::string_view name) const {
  for (size_t i = 0; i < size_; ++i) {
    if (entries_[i].first == name) return &entries_[i].second;
  }
  return nullptr;
}

void RouteParams::add(std::string_view name, std::string value) {
  assert(size_ < route_params_max);
  assert(find(name) == nullptr);
  entries_[size_++] = {name, std::move(value)};
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::add(std::string_view method, std::string_view pattern, RouteHandler handler) {
  assert(!method.empty() && handler);
  assert(!pattern.empty() && pattern[0] == '/' && pattern.size() <= path_bytes_max);
  auto route = std::make_unique<Route>();
  route->method = std::string(method);
  route->log_route = std::make_shared<const std::string>(std::string(method) + " " + std::string(pattern));
  route->handler = std::move(handler);

  std::array<std::string_view, path_segments_max> segments;
  size_t count = 0;
  [[maybe_unused]] const bool fits = split_path(pattern, segments, count);
  assert(fits);
  Node* node = root_.get();
  for (size_t i = 0; i < count; ++i) {
    const std::string_view segment = segments[i];
    if (is_param_segment(segment)) {
      route->param_names.emplace_back(segment.substr(1, segment.size() - 2));
      assert(route->param_names.size() <= route_params_max);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    assert(segment.find_first_of("{}%") == std::string_view::npos && "literal segments are plain text");
    Node* child = node->literal_child(segment);
    if (!child) {
      node->literals.emplace_back(std::string(segment), std::make_unique<Node>());
      child = node->literals.back().second.get();
    }
    node = child;
  }
  for (const Route* existing : node->routes) {
    assert(existing->method != method && "route registered twice");
    if (existing->method == method) return;
  }
  node->routes.push_back(route.get());
  routes_.push_back(std::move(route));
}

namespace {

// Depth-first: literal before parameter, backtracking when a branch has no route for `method`.
template <typename Node, typename Route>
const Route* match_node(const Node& node, const std::array<std::string_view, path_segments_max>& segments,
                        size_t count, size_t index, std::string_view method, Captures& captures) {
  if (index == count) {
    for (const Route* route : node.routes) {
      if (route->method == method) return route;
    }
    return nullptr;
  }
  const std::string_view segment = segments[index];
  if (const Node* child = node.literal_child(segment)) {
    if (const Route* route = match_node<Node, Route>(*child, segments, count, index + 1, method, captures)) return route;
  }
  if (node.param && !segment.empty() && captures.count < route_params_max) {
    captures.values[captures.count++] = segment;
    if (const Route* route = match_node<Node, Route>(*node.param, segments, count, index + 1, method, captures)) {
      return route;
    }
    --captures.count;
  }
  return nullptr;
}

}  // namespace

RouteMatch Router::match(std::string_view method, std::string_view raw_path) const {
  RouteMatch result;
  if (raw_path.empty() || raw_path[0] != '/') {
    result.outcome = RouteMatch::Outcome::bad_path;
    return result;
  }
  std::array<std::string_view, path_segments_max> raw_segments;
  size_t count = 0;
  if (raw_path.size() > path_bytes_max || !split_path(raw_path, raw_segments, count)) return result;
  // Decode each segment after splitting: an encoded "/" (%2F) stays inside its segment. One that
  // does not decode stays raw: it can only be captured by a parameter (literals hold no '%').
  std::array<std::string, path_segments_max> decoded_storage;
  std::array<std::string_view, path_segments_max> segments;
  bool malformed = false;
  for (size_t i = 0; i < count; ++i) {
    auto decoded = percent_decode(raw_segments[i], PlusMeans::plus);
    if (!decoded) {
      malformed = true;
      segments[i] = raw_segments[i];
      continue;
    }
    decoded_storage[i] = std::move(*decoded);
    segments[i] = decoded_storage[i];
  }
  Captures captures;
  const Route* route = match_node<Node, Route>(*root_, segments, count, 0, method, captures);
  if (!route) return result;
  assert(captures.count == route->param_names.size());
  if (malformed) result.params.mark_malformed();
  result.outcome = RouteMatch::Outcome::matched;
  result.handler = &route->handler;
  result.log_route = *route->log_route;
  result.shared_log_route = route->log_route;
  for (size_t i = 0; i < captures.count; ++i) result.params.add(route->param_names[i], std::string(captures.values[i]));
  return result;
}

std::function<std::string(std::string_view, std::string_view)> Router::route_namer() const {
  return [this](std::string_view method, std::string_view path) {
    const RouteMatch match = this->match(method, path);
    return match.outcome == RouteMatch::Outcome::matched ? std::string(match.log_route) : std::string(unmatched_log_route);
  };
}

Handler Router::handler() const {
  return [this](HttpRequest&& request, Respond respond) {
    RouteMatch match = this->match(request.method, request.path);
    if (match.outcome == RouteMatch::Outcome::bad_path) {
      HttpResponse response = invalid_request_response("the request path is malformed");
      response.log_route = std::string(unmatched_log_route);
      respond(std::move(response));
      return;
    }
    if (match.outcome == RouteMatch::Outcome::no_route) {
      // Whatever answers, the log and metrics see one label, never the raw path.
      Respond unmatched_respond = [respond = std::move(respond)](HttpResponse response) {
        response.log_route = std::string(unmatched_log_route);
        respond(std::move(response));
      };
      if (unmatched_) return unmatched_(std::move(request), RouteParams{}, std::move(unmatched_respond));
      unmatched_respond(not_found_response("no such route"));
      return;
    }
    // Fill in the pattern for logs and metrics unless the route handler chose one.
    Respond with_route = [respond = std::move(respond), log_route = std::move(match.shared_log_route)](HttpResponse response) {
      if (response.log_route.empty()) response.log_route = *log_route;
      respond(std::move(response));
    };
    (*match.handler)(std::move(request), std::move(match.params), std::move(with_route));
  };
}

std::vector<std::string> Router::routes() const {
  std::vector<std::string> listed;
  listed.reserve(routes_.size());
  for (const auto& route : routes_) listed.push_back(*route->log_route);
  return listed;
}

}  // namespace tl
