#pragma once
// The HTTP/1.1 server: Boost.Beast with C++20 coroutines, `io_threads` threads, each running its
// own io_context; a connection stays on the one it was dealt (round robin). It knows nothing of
// the domain: every request goes to one Handler (usually Router::handler()), which answers
// through Respond from any thread. Beast stays in server.cpp.
//
// Per connection, requests are read and answered one at a time: a pipelined request is read only
// after the previous response is written, so responses are always in order and a pipelined POST is
// decided before the GET behind it is read.
//
// What the server answers itself (JSON errors, API.md shape), then closes the connection:
//   400 invalid_request        unparsable HTTP, a target that is not a path, a duplicated
//                              Authorization / Idempotency-Key / X-Chapa-Signature header
//   413 payload_too_large      body over body_bytes_max (checked on Content-Length before reading it)
//   431 headers_too_large      request line and headers over header_bytes_max
//   503 overloaded             connections_max connections are open: a new connection gets this
//                              answer at once, without its request being read, then is closed
//                              (if connections_max such refusals are in progress too, a new
//                              connection is closed without an answer)
//   500 internal_error         the handler threw or dropped its Respond
// A request that does not arrive whole within read_timeout_ms (idle keep-alive wait included) is
// closed without an answer: that is what a slowloris client gets.
//
// Wiring (routes are added before start()):
//   auto metrics = std::make_shared<tl::MetricsRegistry>();
//   tl::Router router;
//   router.add("GET", "/metrics", [metrics](tl::HttpRequest&&, tl::RouteParams, tl::Respond respond) {
//     respond(tl::metrics_response(*metrics));
//   });
//   router.add("POST", "/api/bookings/{id}/accept", [&engine](tl::HttpRequest&& request, tl::RouteParams params,
//                                                          tl::Respond respond) {
//     engine.submit(..., std::move(respond));  // the writer thread calls respond(...) when durable
//   });
//   tl::ServerOptions options;
//   options.listen = "127.0.0.1:8080";
//   options.metrics = metrics;
//   tl::Server server(options, router.handler());
//   return server.run_until_signal([&] { std::printf("listening on port %u\n", server.port()); });
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/access_log.h"
#include "api/http_types.h"
#include "api/metrics.h"
#include "engine/status.h"

namespace tl {

constexpr size_t io_threads_max = 256;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // "host:port" or "[v6]:port"; port 0 picks a free port
  size_t io_threads = 0;                  // 0: std::thread::hardware_concurrency(); at most io_threads_max
  size_t body_bytes_max = 64 * 1024;
  size_t header_bytes_max = 16 * 1024;  // request line and all headers
  int64_t read_timeout_ms = 10'000;     // a whole request, counted from when the server starts
                                        // waiting for it (so it is also the keep-alive idle limit)
  int64_t write_timeout_ms = 10'000;
  int64_t drain_timeout_ms = 5'000;     // stop(): how long in-flight requests may take to finish
  int64_t stop_idle_grace_ms = 100;     // stop(): how long an idle keep-alive connection may still
                                        // send one more request (answered with Connection: close)
  int64_t linger_timeout_ms = 1'000;    // before closing after an error: read what the client
                                        // still sends so that it sees the answer, not a reset
  size_t connections_max = 4'096;
  size_t requests_per_connection_max = 100'000;  // then the answer says Connection: close
  LogSink log_sink;                              // empty: stderr_log_sink()
  std::shared_ptr<MetricsRegistry> metrics;      // empty: the server makes its own
  // Names the route of a request refused before routing (a body over the limit), for the request
  // log and metrics; empty: such requests are logged as "unrouted". Router::route_namer().
  std::function<std::string(std::string_view method, std::string_view path)> route_of;
};

// ok when `listen` is "host:port" or "[v6]:port" with an IP address (or localhost) and a port
// of 0 to 65535; invalid_argument naming the problem otherwise. No name resolution. Commands
// check it before they open anything, so a typo changes nothing on disk.
Status check_listen_address(std::string_view listen);

class Server {
 public:
  // `handler` is called on I/O threads; it must outlive the server.
  Server(ServerOptions options, Handler handler);
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, without accepting yet: a caller can learn that the address is taken before
  // it opens anything (the kernel queues connections until start()). io_error when the address
  // cannot be bound, invalid_argument when `listen` is malformed. Optional; at most once.
  Status bind();
  // Binds (unless bind() did), listens and starts the I/O threads; errors as bind(). Call once.
  Status start();
  // The bound port (after start()): the real one when `listen` asked for port 0.
  uint16_t port() const;

  // Graceful stop: stops accepting; lets requests already read finish and answer (with
  // Connection: close) for up to drain_timeout_ms; idle keep-alive connections may send one more
  // request within stop_idle_grace_ms (a client cannot know the server is stopping until it reads
  // Connection: close, so one may be on its way), then are closed; then closes what is left,
  // joins the I/O threads and returns. Idempotent. Call from any thread except an I/O
  // thread (a handler must not call it).
  void stop();

  // start()s if needed, calls `on_ready` once SIGINT/SIGTERM are caught, waits for one of them
  // (or for stop() from another thread), then stop()s and returns.
  Status run_until_signal(const std::function<void()>& on_ready = {});

  // Where the server counts requests (tl_http_*); the lead registers its own metrics here too.
  MetricsRegistry& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
