#include "api/server.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <cassert>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "api/http_date.h"
#include "api/http_errors.h"
#include "api/request_framing.h"
#include "engine/thread_name.h"

namespace tl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

// The route label of requests answered before any handler saw them, or whose handler set none.
constexpr std::string_view unrouted_log_route = "unrouted";
// Lingering close: at most this much is read and dropped before the socket is closed.
constexpr size_t linger_bytes_max = 1024 * 1024;
// After accept() fails (e.g. out of file descriptors), wait before trying again instead of spinning.
constexpr int64_t accept_retry_ms = 50;
// At most one line on stderr about failing accepts per this many milliseconds.
constexpr int64_t accept_failure_say_ms = 60'000;
// Empty lines (CR and LF bytes) skipped before a request line; more are a malformed request.
constexpr size_t empty_line_bytes_max = 64;
// What one read asks for when the buffer is empty (the parser reads on from there).
constexpr size_t read_chunk_bytes = 4096;
// After the drain timeout, how long stop() waits for force-closed connections to wind down.
constexpr int64_t force_close_wait_ms = 1'000;
// Headers the API reads; more than one of them in a request is refused (which one would count?).
// Authorization is not among them: two of them is a token problem, so 401 (HttpRequest).
constexpr std::array<std::string_view, 4> single_headers = {"Idempotency-Key", "X-Chapa-Signature", "Content-Type",
                                                           "Host"};

std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

// The values of every field line named `field`, in order.
std::vector<std::string_view> field_lines(const http::fields& fields, http::field field) {
  std::vector<std::string_view> lines;
  for (auto [it, end] = fields.equal_range(field); it != end; ++it) lines.push_back(to_std(it->value()));
  return lines;
}

// `threads` I/O contexts (0: one per core), each for one thread. The hint tells Asio so; posts
// from other threads (the engine's answers, stop()) are still safe.
std::vector<std::unique_ptr<asio::io_context>> make_io_contexts(size_t threads) {
  const size_t count = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (size_t i = 0; i < count; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  return contexts;
}

// The one place where a response for a client is waited for. Respond (any thread) fills it; the
// connection (its I/O thread) takes it. `wake` posts to the connection's context: it is called and
// destroyed under the mutex, so once abandon() returns no Respond can touch the I/O objects again,
// and stop() can destroy them even if the engine answers later.
class ResponseSlot {
 public:
  void answer(HttpResponse response) {
    std::lock_guard lock(mutex_);
    if (state_ != State::waiting) return;  // the first answer wins
    response_ = std::move(response);
    state_ = State::answered;
    if (wake_) {
      wake_();
      wake_ = nullptr;
    }
  }

  // Every copy of a Respond is gone: if nobody answered, the client must still get one.
  void answer_if_dropped() {
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::waiting) return;
    }
    answer(error_response(500, "internal_error", "the request was dropped without an answer"));
  }

  // On the connection's thread: true when the answer is already there; otherwise `wake` will be called by it.
  bool ready_or_arm(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    if (state_ != State::waiting) return true;
    wake_ = std::move(wake);
    return false;
  }

  // On the connection's thread: the answer, or nullopt when it was abandoned (forced stop).
  std::optional<HttpResponse> take() {
    std::lock_guard lock(mutex_);
    wake_ = nullptr;
    if (state_ != State::answered) return std::nullopt;
    state_ = State::taken;
    return std::move(response_);
  }

  void abandon() {
    std::lock_guard lock(mutex_);
    if (state_ == State::waiting || state_ == State::answered) state_ = State::abandoned;
    wake_ = nullptr;
  }

 private:
  enum class State { waiting, answered, taken, abandoned };
  std::mutex mutex_;
  State state_ = State::waiting;
  HttpResponse response_;
  std::function<void()> wake_;
};

// Shared by all copies of one Respond; the last copy to go answers 500 if nobody answered.
struct RespondOnce {
  explicit RespondOnce(std::shared_ptr<ResponseSlot> slot_in) : slot(std::move(slot_in)) {}
  RespondOnce(const RespondOnce&) = delete;
  RespondOnce& operator=(const RespondOnce&) = delete;
  ~RespondOnce() { slot->answer_if_dropped(); }
  std::shared_ptr<ResponseSlot> slot;
};

Respond make_respond(std::shared_ptr<ResponseSlot> slot) {
  auto once = std::make_shared<RespondOnce>(std::move(slot));
  return [once](HttpResponse response) { once->slot->answer(std::move(response)); };
}

enum class Phase { idle, receiving, handling, writing };

// One connection. Everything but `slot`'s inside is touched only on the connection's I/O thread
// (the one that runs the context of `stream`), and by stop() after the I/O threads are joined.
struct Session : std::enable_shared_from_this<Session> {
  Session(tcp::socket socket, size_t buffer_bytes_max)
      : stream(std::move(socket)), buffer(buffer_bytes_max), response_timer(stream.get_executor()) {}

  beast::tcp_stream stream;
  beast::flat_buffer buffer;          // bytes read but not parsed yet: pipelined requests wait here
  asio::steady_timer response_timer;  // never expires; cancelled to wake the coroutine
  std::string remote;
  Phase phase = Phase::idle;
  uint64_t waits_started = 0;  // numbers the response waits: a late wake-up for an old one is ignored
  uint64_t waiting_for = 0;    // the wait in progress, 0 when none
  std::shared_ptr<ResponseSlot> slot;
};

struct ParsedListen {
  tcp::endpoint endpoint;
  std::string error;
};

// "127.0.0.1:8080", "localhost:0", "[::1]:8080", "0.0.0.0:80". No name resolution.
ParsedListen parse_listen(std::string_view listen) {
  ParsedListen parsed;
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    parsed.error = fmt::format("listen address '{}' is not host:port", listen);
    return parsed;
  }
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    parsed.error = fmt::format("listen address '{}' has no valid port", listen);
    return parsed;
  }
  error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) {
    parsed.error = fmt::format("listen address '{}' has no valid IP address", listen);
    return parsed;
  }
  parsed.endpoint = tcp::endpoint(address, static_cast<uint16_t>(port));
  return parsed;
}

std::string format_remote(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  const std::string address = peer.address().to_string();
  return peer.address().is_v6() ? fmt::format("[{}]:{}", address, peer.port()) : fmt::format("{}:{}", address, peer.port());
}

// Moves what the API needs out of a parsed request. False (with a message for the client) when
// the request must be refused.
bool to_http_request(http::request<http::string_body>& message, const std::string& remote, HttpRequest& out,
                     std::string& refusal) {
  std::string_view target = to_std(message.target());
  if (!framing::is_target_text(target)) {
    refusal = "the request target may hold only visible ASCII characters, and no '#'";
    return false;
  }
  if (!target.empty() && target[0] != '/') {
    // The absolute form (RFC 9112 §3.2.2): a server must accept it, and ignores Host then.
    target = framing::origin_form_of_absolute(target).value_or(std::string_view());
  }
  if (target.empty() || target[0] != '/') {
    refusal = "the request target must be a path starting with '/', or an http URL";
    return false;
  }
  if (message.version() >= 11 && message.find(http::field::host) == message.end()) {
    refusal = "an HTTP/1.1 request needs a Host header";  // RFC 9112 §3.2
    return false;
  }
  if (auto host = message.find(http::field::host); host != message.end() && !framing::is_valid_host(to_std(host->value()))) {
    refusal = "the Host header is not a host with an optional port";  // RFC 9112 §3.2: 400
    return false;
  }
  for (std::string_view name : single_headers) {
    if (message.count(beast::string_view(name.data(), name.size())) > 1) {
      refusal = fmt::format("the request has more than one {} header", name);
      return false;
    }
  }
  const size_t question = target.find('?');
  out.method = std::string(to_std(message.method_string()));
  out.path = std::string(target.substr(0, question));
  out.query = question == std::string_view::npos ? std::string() : std::string(target.substr(question + 1));
  out.authorization = std::string(to_std(message[http::field::authorization]));
  out.authorization_repeated = message.count(http::field::authorization) > 1;
  if (message.find("Idempotency-Key") != message.end()) {
    out.idempotency_key = std::string(to_std(message["Idempotency-Key"]));  // an empty one is refused later
  }
  out.chapa_signature = std::string(to_std(message["X-Chapa-Signature"]));
  out.content_type = std::string(to_std(message[http::field::content_type]));
  out.body = std::move(message.body());
  out.remote = remote;
  return true;
}

// A header name or value with CR, LF or NUL would let text reach the wire as a header of its own
// (response splitting).
bool is_safe_header_text(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_framing_header(std::string_view name_text) {
  const beast::string_view name(name_text.data(), name_text.size());
  return beast::iequals(name, "Content-Length") || beast::iequals(name, "Connection") ||
         beast::iequals(name, "Transfer-Encoding");
}

// A handler bug (a status that is not a final one, an unsafe or framing header) becomes a plain
// 500 with a line on stderr: it never reaches the wire.
bool is_valid_response(const HttpResponse& response) {
  if (response.status < 200 || response.status > 599 || !is_safe_header_text(response.content_type)) return false;
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !is_safe_header_text(name) || !is_safe_header_text(value) || is_framing_header(name)) {
      return false;
    }
  }
  return true;
}

// `head`: the answer to a HEAD request, which is the GET answer's header without its body
// (RFC 9110 §9.3.2): Content-Length still gives the length the body would have.
http::response<http::string_body> to_beast_response(HttpResponse&& response, unsigned version, bool keep_alive,
                                                    bool head) {
  assert(is_valid_response(response));
  http::response<http::string_body> message;
  message.version(version);
  message.result(static_cast<unsigned>(response.status));
  const std::string_view date = http_date_now();
  message.set(http::field::date, beast::string_view(date.data(), date.size()));
  message.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.keep_alive(keep_alive);
  if (head) {
    message.content_length(response.body.size());
  } else {
    message.body() = std::move(response.body);
    message.prepare_payload();
  }
  return message;
}

bool is_http_parse_error(const error_code& ec) {
  static const auto& category = http::make_error_code(http::error::bad_target).category();
  return ec.category() == category && ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// "200" without an allocation, for the status label.
std::array<char, 3> status_digits(int status) {
  assert(status >= 100 && status <= 999);
  return {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
          static_cast<char>('0' + status % 10)};
}

struct Arrival {
  std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();
  TimeMs wall_ms = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options_in, Handler handler_in)
      : options(std::move(options_in)),
        handler(std::move(handler_in)),
        log_sink(options.log_sink ? options.log_sink : stderr_log_sink()),
        metrics(options.metrics ? options.metrics : std::make_shared<MetricsRegistry>()),
        requests_total(metrics->counter_family("tl_http_requests_total", "HTTP requests answered, by route and status",
                                               {"route", "status"})),
        request_seconds(metrics->latency_histogram_family(
            "tl_http_request_duration_seconds", "Time from a request's arrival to the end of its response", {"route"})),
        connections_open(metrics->gauge("tl_http_connections_open", "Open HTTP connections")),
        connections_refused(metrics->counter(
            "tl_http_connections_refused_total", "Connections answered 503 because connections_max were open")),
        read_timeouts(metrics->counter("tl_http_read_timeouts_total",
                                       "Connections closed because a request did not arrive within the read timeout")),
        accept_failures(metrics->counter("tl_http_accept_failures_total",
                                         "Connections the server could not take (e.g. out of file descriptors)")),
        contexts(make_io_contexts(options.io_threads)),
        acceptor(*contexts.front()) {
    assert(handler);
    assert(options.body_bytes_max > 0 && options.header_bytes_max > 0 && options.connections_max > 0);
    assert(options.read_timeout_ms > 0 && options.write_timeout_ms > 0 && options.drain_timeout_ms >= 0 &&
           options.stop_idle_grace_ms >= 0);
  }

  Status bind();
  Status bind_locked();
  Status start();
  void stop();
  void request_stop();
  void wait_for_stop_request();

  asio::awaitable<void> accept_loop();
  void admit(tcp::socket socket);
  asio::awaitable<void> run_session(std::shared_ptr<Session> session);
  asio::awaitable<bool> read_request(Session& s, http::request_parser<http::string_body>& parser, error_code& ec);
  asio::awaitable<void> skip_empty_lines(Session& s, error_code& ec);
  asio::awaitable<void> answer_read_error(Session& s, http::request_parser<http::string_body>& parser,
                                          const error_code& ec, const Arrival& arrival);
  asio::awaitable<std::optional<HttpResponse>> exchange(std::shared_ptr<Session> session, HttpRequest request);
  asio::awaitable<void> write_response(Session& s, HttpResponse response, unsigned version, bool keep_alive,
                                       error_code& ec, bool head = false);
  asio::awaitable<void> linger_close(Session& s);
  asio::awaitable<void> refuse(std::shared_ptr<Session> session);
  void record(std::string_view method, const HttpResponse& response, const Arrival& arrival, const Session& s);
  void finish(const std::shared_ptr<Session>& session, bool refused, std::exception_ptr error);
  template <typename Action>
  void post_to_each_session(Action action);
  void close_when_idle_grace_ends(std::shared_ptr<Session> session);
  bool wait_for_sessions(int64_t timeout_ms);
  bool is_io_thread() const;

  const ServerOptions options;
  const Handler handler;
  const LogSink log_sink;
  const std::shared_ptr<MetricsRegistry> metrics;
  const CounterFamily requests_total;
  const HistogramFamily request_seconds;
  Gauge& connections_open;
  Counter& connections_refused;
  Counter& read_timeouts;
  Counter& accept_failures;
  int64_t accept_failure_said_ms = 0;  // steady time of the last line about it (the accept loop's own)

  // One io_context per I/O thread, each run by that thread alone: a connection lives on one of
  // them (round robin), so its coroutine, its timers and stop()'s posts run on one thread and
  // need no strand. Measured against one shared io_context with a strand per connection (2-core
  // VM, six alternating pairs): /healthz 52k-63k requests/s against 37k-51k, and the server's CPU
  // per POST /api/bookings 51-64 µs against 54-82 µs.
  // Declared before every I/O object so that they are destroyed after them.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor;  // on the first context
  size_t next_context = 0;  // the accept loop's round robin
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stopping{false};

  std::mutex sessions_mutex;
  std::condition_variable sessions_changed;
  std::unordered_set<std::shared_ptr<Session>> sessions;  // admitted connections
  size_t refusals_open = 0;                               // connections being answered 503

  std::mutex lifecycle_mutex;  // start() and stop() one at a time
  bool bound = false;
  bool started = false;
  bool stopped = false;

  std::mutex stop_request_mutex;
  std::condition_variable stop_request_changed;
  bool stop_requested = false;
};

Status Server::Impl::bind() {
  std::lock_guard lifecycle(lifecycle_mutex);
  assert(!bound && !started && "bind() is called once, before start()");
  return bind_locked();
}

Status Server::Impl::bind_locked() {
  if (stopped) return Status::invalid_argument("the server was stopped");
  const ParsedListen listen = parse_listen(options.listen);
  if (!listen.error.empty()) return Status::invalid_argument(listen.error);
  error_code ec;
  acceptor.open(listen.endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(listen.endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return Status::io_error(fmt::format("cannot listen on {}: {}", options.listen, ec.message()));
  }
  port = acceptor.local_endpoint(ec).port();
  bound = true;
  return Status::ok();
}

Status Server::Impl::start() {
  std::lock_guard lifecycle(lifecycle_mutex);
  assert(!started && "start() is called once");
  if (!bound) {
    if (Status status = bind_locked(); !status.is_ok()) return status;
  }
  if (stopped) return Status::invalid_argument("the server was stopped");
  asio::co_spawn(acceptor.get_executor(), accept_loop(), asio::detached);
  for (size_t i = 0; i < contexts.size(); ++i) {
    work.push_back(asio::make_work_guard(*contexts[i]));
    threads.emplace_back([this, i] {
      name_this_thread(fmt::format("tl-http-{}", i));
      contexts[i]->run();
    });
  }
  started = true;
  return Status::ok();
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    error_code ec;
    asio::io_context& context = *contexts[next_context];
    next_context = (next_context + 1) % contexts.size();
    tcp::socket socket = co_await acceptor.async_accept(context, asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) co_return;
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors, say: new clients wait in the kernel's queue meanwhile. Counted,
      // and said on stderr at most once per accept_failure_say_ms, so on-call sees why.
      accept_failures.add();
      const int64_t now_ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
      if (accept_failure_said_ms == 0 || now_ms - accept_failure_said_ms >= accept_failure_say_ms) {
        accept_failure_said_ms = now_ms;
        std::fprintf(stderr, "tutorledger: cannot accept connections: %s (retrying every %lld ms)\n", ec.message().c_str(),
                     static_cast<long long>(accept_retry_ms));
      }
      asio::steady_timer pause(co_await asio::this_coro::executor, milliseconds(accept_retry_ms));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    admit(std::move(socket));
  }
}

void Server::Impl::admit(tcp::socket socket) {
  std::string remote = format_remote(socket);
  auto session = std::make_shared<Session>(std::move(socket),
                                           options.header_bytes_max + options.body_bytes_max + 64 * 1024);
  session->remote = std::move(remote);
  bool admitted = false;
  bool refusing = false;
  {
    std::lock_guard lock(sessions_mutex);
    if (sessions.size() < options.connections_max) {
      admitted = sessions.insert(session).second;
      connections_open.set(static_cast<int64_t>(sessions.size()));
    } else if (refusals_open < options.connections_max) {  // answering 503s is bounded too
      ++refusals_open;
      refusing = true;
    }
  }
  const auto executor = session->stream.get_executor();
  if (admitted) {
    asio::co_spawn(executor, run_session(session),
                   [this, session](std::exception_ptr error) { finish(session, false, error); });
  } else if (refusing) {
    asio::co_spawn(executor, refuse(session), [this, session](std::exception_ptr error) { finish(session, true, error); });
  } else {
    connections_refused.add();
  }
  // A refused-without-answer session dies here, closing its socket.
}

void Server::Impl::finish(const std::shared_ptr<Session>& session, bool refused, std::exception_ptr error) {
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tutorledger: connection %s failed: %s\n", session->remote.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "tutorledger: connection %s failed\n", session->remote.c_str());
    }
  }
  error_code ignored;
  session->stream.socket().close(ignored);
  std::lock_guard lock(sessions_mutex);
  if (refused) {
    assert(refusals_open > 0);
    --refusals_open;
  } else {
    sessions.erase(session);
    connections_open.set(static_cast<int64_t>(sessions.size()));
  }
  sessions_changed.notify_all();
}

asio::awaitable<void> Server::Impl::run_session(std::shared_ptr<Session> session) {
  Session& s = *session;
  for (size_t served = 0;;) {  // a stopping server ends it: no keep-alive, or the idle grace ran out
    http::request_parser<http::string_body> parser;  // fresh per request: limits and state reset
    parser.header_limit(static_cast<uint32_t>(std::min<size_t>(options.header_bytes_max, UINT32_MAX)));
    parser.body_limit(options.body_bytes_max);
    error_code ec;
    const bool complete = co_await read_request(s, parser, ec);
    const Arrival arrival;  // latency counts from here: the keep-alive idle wait is not the server's
    if (!complete) {
      co_await answer_read_error(s, parser, ec, arrival);
      co_return;
    }

    auto& message = parser.get();
    const unsigned version = message.version();
    const std::string method(to_std(message.method_string()));
    // Beast keeps an HTTP/1.0 connection open on "keep-alive, close"; "close" wins (RFC 9112 §9.6).
    bool keep_alive = message.keep_alive() && !framing::asks_to_close(field_lines(message, http::field::connection));
    HttpRequest request;
    std::string refusal;
    std::optional<HttpResponse> response;
    // HEAD is GET without the body (RFC 9110 §9.3.2): routed and answered as GET, body dropped.
    const bool head = message.method() == http::verb::head;
    if (message.method() == http::verb::unknown) {
      // RFC 9110 §9.1: a method the server does not know (methods are case-sensitive: "get" too).
      response = error_response(501, "not_implemented", fmt::format("the method {} is not implemented", method));
      response->log_route = std::string(unrouted_log_route);
    } else if (to_http_request(message, s.remote, request, refusal)) {
      if (head) request.method = "GET";
      s.phase = Phase::handling;
      response = co_await exchange(session, std::move(request));
      if (!response) co_return;  // abandoned by a forced stop
      if (!is_valid_response(*response)) {
        std::fprintf(stderr, "tutorledger: the handler of %s answered an invalid status or header\n",
                     response->log_route.empty() ? "an unrouted request" : response->log_route.c_str());
        std::string log_route = std::move(response->log_route);
        response = error_response(500, "internal_error", "the request failed");
        response->log_route = std::move(log_route);
      }
    } else {
      response = invalid_request_response(refusal);
      keep_alive = false;
    }
    ++served;
    keep_alive = keep_alive && !stopping && served < options.requests_per_connection_max;
    const HttpResponse summary{response->status, {}, {}, {}, response->log_route, response->log_user};
    s.phase = Phase::writing;
    co_await write_response(s, std::move(*response), version, keep_alive, ec, head);
    record(method, summary, arrival, s);
    if (ec) co_return;
    if (!keep_alive) {
      co_await linger_close(s);
      co_return;
    }
  }
}

// Reads one whole request: headers, then (after a 100 Continue if the client waits for one) the
// body. The deadline covers all of it, so trickling bytes does not extend it.
asio::awaitable<bool> Server::Impl::read_request(Session& s, http::request_parser<http::string_body>& parser,
                                                 error_code& ec) {
  s.phase = Phase::idle;
  // Once stopping, a keep-alive client gets the idle grace to send one more request. (stop() shortens
  // a wait that began before it, see close_when_idle_grace_ends.)
  s.stream.expires_after(milliseconds(stopping ? options.stop_idle_grace_ms : options.read_timeout_ms));
  co_await skip_empty_lines(s, ec);
  if (ec) co_return false;
  co_await http::async_read_header(s.stream, s.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  if (parser.get().find(http::field::transfer_encoding) != parser.get().end()) {
    // A Transfer-Encoding whose last coding is not chunked leaves the body's length unknown; the
    // parser would take the body as empty and read its bytes as the next request (smuggling). RFC
    // 9112 §6.3: answer 400 and close. Another coding before chunked (gzip, …) is one the server
    // does not decode: 501 (§6.1), rather than reading the body as if it were plain.
    const auto codings = framing::check_transfer_codings(field_lines(parser.get(), http::field::transfer_encoding));
    if (codings.verdict == framing::TransferCodings::chunked_not_last || !parser.chunked()) {
      ec = http::error::bad_transfer_encoding;
      co_return false;
    }
    if (codings.verdict == framing::TransferCodings::unsupported) {
      ec = boost::system::errc::make_error_code(boost::system::errc::not_supported);
      co_return false;
    }
  }
  s.phase = Phase::receiving;
  if (parser.is_done()) co_return true;
  // An HTTP/1.0 client knows no 1xx answer and would take it for the final one (RFC 9110 §10.1.1).
  if (parser.get().version() >= 11 && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(s.stream, asio::buffer(continue_line.data(), continue_line.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  co_await http::async_read(s.stream, s.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// RFC 9112 §2.2: a server should ignore empty lines before a request line (some clients send CRLF
// after a POST body). Reads until a byte that is not CR or LF is buffered, dropping up to
// empty_line_bytes_max of them; more are left for the parser to refuse.
asio::awaitable<void> Server::Impl::skip_empty_lines(Session& s, error_code& ec) {
  size_t skipped = 0;
  for (;;) {
    if (s.buffer.size() == 0) {
      const auto room = s.buffer.prepare(std::min(read_chunk_bytes, s.buffer.max_size()));
      const size_t read = co_await s.stream.async_read_some(room, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      s.buffer.commit(read);
    }
    const auto* bytes = static_cast<const char*>(s.buffer.data().data());
    size_t empty = 0;
    while (empty < s.buffer.size() && skipped < empty_line_bytes_max &&
           (bytes[empty] == '\r' || bytes[empty] == '\n')) {
      ++empty;
      ++skipped;
    }
    s.buffer.consume(empty);
    if (s.buffer.size() > 0 || skipped == empty_line_bytes_max) co_return;
  }
}

asio::awaitable<void> Server::Impl::answer_read_error(Session& s, http::request_parser<http::string_body>& parser,
                                                      const error_code& ec, const Arrival& arrival) {
  std::optional<HttpResponse> response;
  if (ec == http::error::body_limit) {
    response = error_response(413, "payload_too_large",
                              fmt::format("the request body is larger than {} bytes", options.body_bytes_max));
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    response = error_response(431, "headers_too_large",
                              fmt::format("the request line and headers are larger than {} bytes", options.header_bytes_max));
  } else if (ec == boost::system::errc::not_supported) {
    const auto codings = framing::check_transfer_codings(field_lines(parser.get(), http::field::transfer_encoding));
    response = error_response(501, "not_implemented",
                              fmt::format("the transfer coding {} is not implemented: send the body chunked only",
                                          codings.unsupported));
  } else if (is_http_parse_error(ec)) {
    response = invalid_request_response(fmt::format("malformed HTTP request: {}", ec.message()));
  } else if (ec == beast::error::timeout && !stopping) {
    read_timeouts.add();  // the stream is already closed: slow or idle clients get no answer
  }
  if (!response) {
    s.stream.close();  // end of stream, reset, timeout, or stop() closing an idle connection
    co_return;
  }
  response->log_route = std::string(unrouted_log_route);
  // A body over the limit is refused once the headers are read, before the parser calls them done:
  // the request line is known by then, and the log line names its method and route.
  const std::string_view method_text = to_std(parser.get().method_string());
  if (options.route_of && !method_text.empty()) {
    const std::string_view target = to_std(parser.get().target());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.starts_with('/')) {
      response->log_route = options.route_of(parser.get().method() == http::verb::head ? "GET" : method_text, path);
    }
  }
  const std::string method = method_text.empty() ? "-" : std::string(method_text);
  const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
  const HttpResponse summary{response->status, {}, {}, {}, response->log_route, {}};
  error_code write_ec;
  s.phase = Phase::writing;
  co_await write_response(s, std::move(*response), version, false, write_ec);
  record(method, summary, arrival, s);
  if (!write_ec) co_await linger_close(s);
}

asio::awaitable<std::optional<HttpResponse>> Server::Impl::exchange(std::shared_ptr<Session> session,
                                                                    HttpRequest request) {
  Session& s = *session;
  auto slot = std::make_shared<ResponseSlot>();
  s.slot = slot;
  try {
    handler(std::move(request), make_respond(slot));  // the handler's copy of Respond may outlive this
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tutorledger: handler threw: %s\n", e.what());
    slot->answer(error_response(500, "internal_error", "the request failed"));
  } catch (...) {
    slot->answer(error_response(500, "internal_error", "the request failed"));
  }
  const uint64_t wait = ++s.waits_started;
  s.waiting_for = wait;
  const auto executor = s.stream.get_executor();
  Session* raw = &s;
  // Runs on whichever thread answers, under the slot's mutex, while the session is alive (it
  // cannot finish before take() or abandon(), which disarm this first).
  auto wake = [executor, raw, wait] {
    asio::post(executor, [self = raw->shared_from_this(), wait] {
      if (self->waiting_for == wait) self->response_timer.cancel();
    });
  };
  if (!slot->ready_or_arm(std::move(wake))) {
    s.response_timer.expires_at(asio::steady_timer::time_point::max());
    error_code ec;
    co_await s.response_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  s.waiting_for = 0;
  std::optional<HttpResponse> response = slot->take();
  s.slot.reset();
  co_return response;
}

asio::awaitable<void> Server::Impl::write_response(Session& s, HttpResponse response, unsigned version,
                                                   bool keep_alive, error_code& ec, bool head) {
  auto message = to_beast_response(std::move(response), version, keep_alive, head);
  s.stream.expires_after(milliseconds(options.write_timeout_ms));
  co_await http::async_write(s.stream, message, asio::redirect_error(asio::use_awaitable, ec));
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the answer
// before the client reads it (a 413 while the client is still uploading). So: stop sending, read
// and drop what still comes for a bounded time, then close.
asio::awaitable<void> Server::Impl::linger_close(Session& s) {
  error_code ec;
  s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  s.stream.expires_after(milliseconds(options.linger_timeout_ms));
  std::array<char, 4096> discard;
  size_t discarded_bytes = 0;
  while (!ec && discarded_bytes < linger_bytes_max) {
    discarded_bytes += co_await s.stream.async_read_some(asio::buffer(discard), asio::redirect_error(asio::use_awaitable, ec));
  }
  s.stream.close();
}

asio::awaitable<void> Server::Impl::refuse(std::shared_ptr<Session> session) {
  connections_refused.add();
  HttpResponse response = error_response(503, "overloaded", "too many open connections; retry later");
  response.headers.emplace_back("Retry-After", "1");
  error_code ec;
  co_await write_response(*session, std::move(response), 11, false, ec);
  if (!ec) co_await linger_close(*session);
}

void Server::Impl::record(std::string_view method, const HttpResponse& response, const Arrival& arrival,
                          const Session& s) {
  const std::string_view route = response.log_route.empty() ? unrouted_log_route : std::string_view(response.log_route);
  const auto micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - arrival.steady).count());
  const auto status = status_digits(response.status);
  requests_total.with({route, std::string_view(status.data(), status.size())}).add();
  request_seconds.with({route}).observe_micros(micros);
  AccessLogEntry entry;
  entry.at = arrival.wall_ms;
  entry.method = method;
  entry.route = route;
  entry.status = response.status;
  entry.micros = micros;
  entry.user = response.log_user;
  entry.remote = s.remote;
  log_sink(format_access_log_line(entry));
}

template <typename Action>
void Server::Impl::post_to_each_session(Action action) {
  std::lock_guard lock(sessions_mutex);
  for (const auto& session : sessions) {
    asio::post(session->stream.get_executor(), [session, action] { action(session); });
  }
}

// On the session's thread, from stop(). A read already waiting for the next request keeps the
// deadline it began with (read_timeout_ms, too long for a stop), so a timer of its own ends it.
// A request that arrives meanwhile moves the session out of `idle` and is answered.
void Server::Impl::close_when_idle_grace_ends(std::shared_ptr<Session> session) {
  if (session->phase != Phase::idle) return;
  auto grace = std::make_shared<asio::steady_timer>(session->stream.get_executor(),
                                                    milliseconds(options.stop_idle_grace_ms));
  grace->async_wait([session, grace](const error_code& ec) {
    if (!ec && session->phase == Phase::idle) session->stream.close();
  });
}

bool Server::Impl::wait_for_sessions(int64_t timeout_ms) {
  std::unique_lock lock(sessions_mutex);
  return sessions_changed.wait_for(lock, milliseconds(timeout_ms),
                                   [this] { return sessions.empty() && refusals_open == 0; });
}

bool Server::Impl::is_io_thread() const {
  for (const auto& thread : threads) {
    if (thread.get_id() == std::this_thread::get_id()) return true;
  }
  return false;
}

void Server::Impl::request_stop() {
  std::lock_guard lock(stop_request_mutex);
  stop_requested = true;
  stop_request_changed.notify_all();
}

void Server::Impl::wait_for_stop_request() {
  std::unique_lock lock(stop_request_mutex);
  stop_request_changed.wait(lock, [this] { return stop_requested; });
}

void Server::Impl::stop() {
  std::lock_guard lifecycle(lifecycle_mutex);
  assert(!is_io_thread() && "stop() from an I/O thread would wait for itself");
  if (started && !stopped) {
    stopping = true;
    asio::post(acceptor.get_executor(), [this] {
      error_code ignored;
      acceptor.close(ignored);
    });
    // Requests already read are answered first; idle keep-alive connections get the idle grace.
    post_to_each_session([this](std::shared_ptr<Session> session) { close_when_idle_grace_ends(std::move(session)); });
    if (!wait_for_sessions(options.drain_timeout_ms)) {
      post_to_each_session([](const std::shared_ptr<Session>& s) {
        if (s->slot) s->slot->abandon();
        s->response_timer.cancel();
        s->stream.close();
      });
      wait_for_sessions(force_close_wait_ms);
    }
    work.clear();
    for (auto& context : contexts) context->stop();
    for (auto& thread : threads) thread.join();
    // No I/O thread runs now. Disarm every wait still open so a late Respond touches nothing of
    // ours; the coroutines themselves are destroyed with the io_context.
    std::lock_guard lock(sessions_mutex);
    for (const auto& session : sessions) {
      if (session->slot) session->slot->abandon();
    }
    sessions.clear();
  }
  stopped = true;
  request_stop();  // wakes run_until_signal() if another thread stopped the server
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

Status check_listen_address(std::string_view listen) {
  const ParsedListen parsed = parse_listen(listen);
  return parsed.error.empty() ? Status::ok() : Status::invalid_argument(parsed.error);
}

Status Server::bind() { return impl_->bind(); }

Status Server::start() { return impl_->start(); }

uint16_t Server::port() const { return impl_->port; }

void Server::stop() { impl_->stop(); }

Status Server::run_until_signal(const std::function<void()>& on_ready) {
  bool running = false;
  {
    std::lock_guard lifecycle(impl_->lifecycle_mutex);
    running = impl_->started;
  }
  if (!running) {
    if (Status status = start(); !status.is_ok()) return status;
  }
  // SIGHUP (a closed terminal) stops the server as SIGINT and SIGTERM do: drained, checkpointed.
  asio::signal_set signals(*impl_->contexts.front(), SIGINT, SIGTERM, SIGHUP);  // installed here, synchronously
  // A closed stderr (whoever read the request log went away) must not end the server: writes to
  // it fail and are dropped. Sockets never raise SIGPIPE (Asio sends with MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  signals.async_wait([impl = impl_.get()](const error_code& ec, int) {
    if (!ec) impl->request_stop();
  });
  if (on_ready) on_ready();
  impl_->wait_for_stop_request();
  stop();
  return Status::ok();
}

MetricsRegistry& Server::metrics() { return *impl_->metrics; }

}  // namespace tl
