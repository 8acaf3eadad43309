#pragma once
// The HTTP request and response as the rest of the program sees them: plain structs, no Beast.
// The server (api/server.cpp) converts from and to the wire; handlers and the router only see
// these, so they can be tested without a socket.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tl {

struct HttpRequest {
  std::string method;           // as sent, e.g. "GET", "POST" (HTTP methods are case-sensitive)
  std::string path;             // raw path without the query, NOT percent-decoded: the router
                                // decodes each segment after splitting, so "%2F" stays in its segment
  std::string query;            // raw query string without '?', NOT decoded (see query_string.h)
  std::string authorization;    // header values we need; empty if absent (duplicates of the
                                // others are refused by the server with 400)
  bool authorization_repeated = false;  // more than one Authorization line: the routes that need a
                                        // token answer 401, as every other token problem
  std::optional<std::string> idempotency_key;  // absent, or the header's value (maybe empty)
  std::string chapa_signature;  // x-chapa-signature
  std::string content_type;
  std::string body;             // raw bytes (webhook signatures are over these)
  std::string remote;           // peer "address:port", for logs
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (not Content-Length,
                                                             // Connection, Transfer-Encoding)
  std::string log_route;  // route pattern for metrics and logs, e.g. "POST /api/bookings/{id}/accept";
                          // never a raw path (label cardinality, secrets in paths)
  std::string log_user;   // authenticated user for the request log, empty if none
};

// Answers a request. Call it exactly once, from any thread; the connection waits for it. The first
// call wins and later calls do nothing. If every copy is destroyed without a call, the client gets
// 500 `internal_error`, so a lost request never hangs a connection.
using Respond = std::function<void(HttpResponse)>;

// Handles one request. Must not block and must not throw: hand slow work to another thread and
// call `respond` from there.
using Handler = std::function<void(HttpRequest&&, Respond)>;

}  // namespace tl
