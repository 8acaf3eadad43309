#include "api/nats_connection.h"

#include <cassert>

#include <fmt/format.h>

namespace tl::nats {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
struct StreamInfoDeleter {
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
struct MessageDeleter {
  void operator()(natsMsg* message) const { natsMsg_Destroy(message); }
};

// nats.c reports the server's "not found" answers either way, depending on the call.
bool is_not_found(natsStatus status, jsErrCode code, jsErrCode not_found_code) {
  return status == NATS_NOT_FOUND || code == not_found_code;
}

}  // namespace

std::vector<std::string> split_urls(std::string_view text) {
  std::vector<std::string> urls;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view url = text.substr(0, comma);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!url.empty()) urls.emplace_back(url);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return urls;
}

std::string nats_urls_problem(std::string_view text) {
  const std::vector<std::string> urls = split_urls(text);
  if (urls.empty()) return "no NATS server named";
  for (const std::string& url : urls) {
    const size_t scheme_end = url.find("://");
    if (scheme_end != std::string::npos && url.compare(0, scheme_end, "nats") != 0 &&
        url.compare(0, scheme_end, "tls") != 0) {
      return "'" + url + "' is not a NATS server: use nats://host:port";
    }
    const std::string_view host_port = std::string_view(url).substr(scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (host_port.empty() || host_port.front() == ':' || host_port.front() == '/') {
      return "'" + url + "' names no host: use nats://host:port";
    }
  }
  return {};
}

std::string describe(std::string_view what, natsStatus status, jsErrCode code) {
  std::string text = fmt::format("{}: {}", what, natsStatus_GetText(status));
  if (code != 0) text += fmt::format(" (JetStream error {})", static_cast<int>(code));
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == status) text += fmt::format(": {}", last);
  return text;
}

Status Session::connect(const ConnectOptions& options, std::unique_ptr<Session>* out) {
  assert(out != nullptr && !options.url.empty());
  natsOptions* raw_options = nullptr;
  if (natsOptions_Create(&raw_options) != NATS_OK) return Status::io_error("nats: cannot allocate options");
  std::unique_ptr<natsOptions, OptionsDeleter> nats_options(raw_options);
  // Each server on its own: nats.c 3.4 finds no server in a comma-separated URL.
  const std::vector<std::string> urls = split_urls(options.url);
  if (urls.empty()) return Status::invalid_argument("nats: no server URL in '" + options.url + "'");
  std::vector<const char*> url_pointers;
  for (const std::string& url : urls) url_pointers.push_back(url.c_str());
  natsStatus s = natsOptions_SetServers(raw_options, url_pointers.data(), static_cast<int>(url_pointers.size()));
  if (s == NATS_OK && !options.name.empty()) s = natsOptions_SetName(raw_options, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(raw_options, options.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(raw_options, -1);  // forever: a ledger outlives outages
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw_options, options.reconnect_wait_ms);
  // JetStream API requests fail at once on a disconnect instead of waiting out their timeout.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(raw_options, true);
  if (s != NATS_OK) return Status::invalid_argument(describe("nats options", s));

  std::unique_ptr<Session> session(new Session());
  s = natsConnection_Connect(&session->connection_, raw_options);
  if (s != NATS_OK) return Status::io_error(describe("nats connect to " + options.url, s));

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout_ms;
  js_options.PublishAsync.AckHandler = options.ack_handler;
  js_options.PublishAsync.AckHandlerClosure = options.ack_handler_closure;
  js_options.PublishAsync.MaxPending = options.publish_async_pending_max;
  s = natsConnection_JetStream(&session->jetstream_, session->connection_, &js_options);
  if (s != NATS_OK) return Status::io_error(describe("nats JetStream context", s));
  *out = std::move(session);
  return Status::ok();
}

Session::~Session() {
  jsCtx_Destroy(jetstream_);
  if (connection_ != nullptr) {
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
  }
}

bool Session::connected() const { return natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED; }

uint64_t Session::reconnects() const {
  natsStatistics* stats = nullptr;
  if (natsStatistics_Create(&stats) != NATS_OK) return 0;
  uint64_t count = 0;
  if (natsConnection_GetStats(connection_, stats) == NATS_OK) {
    natsStatistics_GetCounts(stats, nullptr, nullptr, nullptr, nullptr, &count);
  }
  natsStatistics_Destroy(stats);
  return count;
}

Status stream_state(jsCtx* js, const std::string& stream, StreamState* out) {
  assert(js != nullptr && out != nullptr);
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&raw, js, stream.c_str(), nullptr, &code);
  std::unique_ptr<jsStreamInfo, StreamInfoDeleter> info(raw);
  if (is_not_found(s, code, JSStreamNotFoundErr)) return Status::not_found("stream " + stream);
  if (s != NATS_OK) return Status::io_error(describe("stream info " + stream, s, code));
  out->first_sequence = info->State.FirstSeq;
  out->last_sequence = info->State.LastSeq;
  out->messages = info->State.Msgs;
  return Status::ok();
}

Status stream_message_data(jsCtx* js, const std::string& stream, uint64_t sequence, std::string* out) {
  assert(js != nullptr && sequence > 0);
  natsMsg* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetMsg(&raw, js, stream.c_str(), sequence, nullptr, &code);
  std::unique_ptr<natsMsg, MessageDeleter> message(raw);
  if (is_not_found(s, code, JSNoMessageFoundErr)) return Status::not_found(fmt::format("message {}", sequence));
  if (s != NATS_OK) return Status::io_error(describe(fmt::format("get message {} of {}", sequence, stream), s, code));
  out->assign(natsMsg_GetData(raw), static_cast<size_t>(natsMsg_GetDataLength(raw)));
  return Status::ok();
}

Status stored_value_at(const LogStore& log, uint64_t position, std::string* out) {
  assert(position > 0 && out != nullptr);
  bool found = false;
  const Status scanned = log.scan_raw(position, [&](uint64_t at, std::string_view value) {
    found = at == position;
    if (found) out->assign(value);
    return false;
  });
  if (!scanned.is_ok()) return scanned;
  return found ? Status::ok() : Status::not_found(fmt::format("position {} is not in the log", position));
}

Status check_stream_matches_log(jsCtx* js, const std::string& stream, const LogStore& log, uint64_t position) {
  std::string published;
  std::string stored;
  if (Status s = stream_message_data(js, stream, position, &published); !s.is_ok()) {
    if (s.is_not_found()) return Status::corruption(fmt::format("stream {} has no message {}", stream, position));
    return s;
  }
  if (Status s = stored_value_at(log, position, &stored); !s.is_ok()) return s;
  if (published != stored) {
    return Status::corruption(fmt::format("position {}: stream {} holds another event there than this log; "
                                          "it belongs to another ledger",
                                          position, stream));
  }
  return Status::ok();
}

}  // namespace tl::nats
