#pragma once
// A small blocking HTTP/1.1 client for tests over loopback: keep-alive, pipelining (send several,
// then read several), raw bytes for malformed or trickled requests, and a check that the server
// closed the connection. Not for production: no TLS, no redirects, bounded responses.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tl::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr size_t client_response_bytes_max = 16 * 1024 * 1024;

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
  // The first header called `name` (any case), or "" when absent.
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  // Connects to host:port (an IPv4 address, e.g. "127.0.0.1"); nullopt on failure.
  static std::optional<HttpClient> connect(uint16_t port, std::string_view host = "127.0.0.1", int timeout_ms = 5000);
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // How long one read may wait for the server.
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = timeout_ms; }

  bool send_raw(std::string_view bytes);
  // Sends one request: Host, Content-Length (for a body or a POST), then `headers`.
  bool send_request(std::string_view method, std::string_view target, std::string_view body = {},
                    const HeaderList& headers = {});
  // Reads one final response (1xx interim responses are skipped); nullopt on error, timeout or
  // when the connection closes first.
  std::optional<ClientResponse> read_response();
  // Reads the next response, interim (1xx) or final.
  std::optional<ClientResponse> read_next();
  // send_request() then read_response().
  std::optional<ClientResponse> request(std::string_view method, std::string_view target, std::string_view body = {},
                                        const HeaderList& headers = {});

  // True when the server closes the connection (end of stream or reset) within `timeout_ms`;
  // bytes that arrive meanwhile are kept for read_response().
  bool wait_closed(int timeout_ms);
  // Every byte until the server closes the connection (or `timeout_ms` passes), unparsed: for
  // answers a response parser would misread, such as HEAD's header without its body.
  std::string read_until_closed(int timeout_ms);
  // Stops sending (the server reads end of stream), keeps reading possible.
  void shutdown_send();

  const std::string& last_error() const { return last_error_; }

 private:
  explicit HttpClient(int fd) : fd_(fd) {}
  // Appends what the socket has to buffer_; false on end of stream, error or timeout.
  bool fill();
  bool read_until(std::string_view delimiter, size_t& position);
  bool read_exactly(size_t bytes);

  int fd_ = -1;
  int timeout_ms_ = 5000;
  std::string buffer_;  // received, not yet consumed
  std::string last_error_;
};

}  // namespace tl::test
