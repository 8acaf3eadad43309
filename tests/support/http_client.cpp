#include "support/http_client.h"

#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace tl::test {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<size_t> parse_size(std::string_view text, int base) {
  size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::optional<HttpClient> HttpClient::connect(uint16_t port, std::string_view host, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, std::string(host).c_str(), &address.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  HttpClient client(fd);
  client.timeout_ms_ = timeout_ms;
  return client;
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_ms_(other.timeout_ms_), buffer_(std::move(other.buffer_)) {}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    timeout_ms_ = other.timeout_ms_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      last_error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

bool HttpClient::send_request(std::string_view method, std::string_view target, std::string_view body,
                              const HeaderList& headers) {
  std::string text;
  text.reserve(128 + body.size());
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!body.empty() || method == "POST") text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  for (const auto& [name, value] : headers) text.append(name).append(": ").append(value).append("\r\n");
  text.append("\r\n").append(body);
  return send_raw(text);
}

bool HttpClient::fill() {
  pollfd entry{fd_, POLLIN, 0};
  const int ready = ::poll(&entry, 1, timeout_ms_);
  if (ready <= 0) {
    last_error_ = ready == 0 ? "timed out" : std::string("poll: ") + std::strerror(errno);
    return false;
  }
  char chunk[16384];
  const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
  if (received <= 0) {
    last_error_ = received == 0 ? "closed by the server" : std::string("recv: ") + std::strerror(errno);
    return false;
  }
  if (buffer_.size() + static_cast<size_t>(received) > client_response_bytes_max) {
    last_error_ = "response too large";
    return false;
  }
  buffer_.append(chunk, static_cast<size_t>(received));
  return true;
}

bool HttpClient::read_until(std::string_view delimiter, size_t& position) {
  for (;;) {
    position = buffer_.find(delimiter);
    if (position != std::string::npos) return true;
    if (!fill()) return false;
  }
}

bool HttpClient::read_exactly(size_t bytes) {
  while (buffer_.size() < bytes) {
    if (!fill()) return false;
  }
  return true;
}

std::optional<ClientResponse> HttpClient::read_next() {
  size_t header_end = 0;
  if (!read_until("\r\n\r\n", header_end)) return std::nullopt;
  const std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);

  ClientResponse response;
  size_t line_end = head.find("\r\n");
  const std::string_view status_line = std::string_view(head).substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
    last_error_ = "bad status line";
    return std::nullopt;
  }
  const auto status = parse_size(status_line.substr(9, 3), 10);
  if (!status) {
    last_error_ = "bad status code";
    return std::nullopt;
  }
  response.status = static_cast<int>(*status);
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = std::string_view(head).substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  if (response.status >= 100 && response.status < 200) return response;  // interim: no body

  if (iequals(response.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      size_t size_end = 0;
      if (!read_until("\r\n", size_end)) return std::nullopt;
      const auto size = parse_size(std::string_view(buffer_).substr(0, size_end), 16);
      if (!size) {
        last_error_ = "bad chunk size";
        return std::nullopt;
      }
      buffer_.erase(0, size_end + 2);
      if (!read_exactly(*size + 2)) return std::nullopt;
      response.body.append(buffer_, 0, *size);
      buffer_.erase(0, *size + 2);
      if (*size == 0) return response;  // no trailers from our server
    }
  }
  const std::string length_text = response.header("Content-Length");
  if (!length_text.empty()) {
    const auto length = parse_size(length_text, 10);
    if (!length || !read_exactly(*length)) return std::nullopt;
    response.body = buffer_.substr(0, *length);
    buffer_.erase(0, *length);
    return response;
  }
  while (fill()) {  // no length: the body runs to the end of the connection
  }
  response.body = std::move(buffer_);
  buffer_.clear();
  return response;
}

std::optional<ClientResponse> HttpClient::read_response() {
  for (;;) {
    auto response = read_next();
    if (!response || response->status >= 200) return response;
  }
}

std::optional<ClientResponse> HttpClient::request(std::string_view method, std::string_view target,
                                                  std::string_view body, const HeaderList& headers) {
  if (!send_request(method, target, body, headers)) return std::nullopt;
  return read_response();
}

bool HttpClient::wait_closed(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) return true;  // end of stream or reset: closed
    buffer_.append(chunk, static_cast<size_t>(received));
  }
}

std::string HttpClient::read_until_closed(int timeout_ms) {
  wait_closed(timeout_ms);
  return std::exchange(buffer_, {});
}

void HttpClient::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

}  // namespace tl::test
