#pragma once
// The nats.c client (libnats 3.4) behind one owning handle, and the JetStream calls that the
// publisher and the read replica share. nats.c reconnects by itself; callers poll connected() and
// reconnects() instead of registering connection callbacks, so no library thread ever calls into
// an object that may already be gone. Only api/nats_*.cpp and tests include this header.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <string_view>

#include <nats/nats.h>

#include "engine/log_store.h"
#include "engine/status.h"

namespace tl::nats {

struct ConnectOptions {
  std::string url;                    // "nats://127.0.0.1:4222", several separated by commas
  std::string name;                   // the client name the server shows
  int64_t connect_timeout_ms = 2'000;
  int64_t reconnect_wait_ms = 250;
  int64_t request_timeout_ms = 5'000;  // each JetStream API call
  // Async publishing (the publisher only): called on a nats.c thread once per published message.
  jsPubAckHandler ack_handler = nullptr;
  void* ack_handler_closure = nullptr;
  int64_t publish_async_pending_max = 0;  // 0: the library's default
};

// The servers of a comma-separated URL list, blanks trimmed, empty entries dropped.
std::vector<std::string> split_urls(std::string_view text);

// Empty when every server of the list is nats://host:port or tls://host:port (or host:port, which
// nats.c reads as nats://); else what is wrong with the first one that is not, for a usage error.
// nats.c would take http://host:port as a host named "http" and retry it forever.
std::string nats_urls_problem(std::string_view text);

// "<what>: <nats.c status text> (JetStream error <code>): <the library's last error>".
std::string describe(std::string_view what, natsStatus status, jsErrCode code = static_cast<jsErrCode>(0));

class Session {
 public:
  // Connects (trying every URL once), then reconnects forever in the background. io_error when no
  // server answers.
  static Status connect(const ConnectOptions& options, std::unique_ptr<Session>* out);
  ~Session();  // destroys the JetStream context, then closes the connection
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  natsConnection* connection() const { return connection_; }
  jsCtx* jetstream() const { return jetstream_; }
  bool connected() const;     // connected now, not reconnecting
  uint64_t reconnects() const;  // how many times nats.c reconnected since connect()

 private:
  Session() = default;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
};

// What a stream holds: its last sequence (0 when empty). not_found when there is no such stream.
struct StreamState {
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t messages = 0;
};
Status stream_state(jsCtx* js, const std::string& stream, StreamState* out);

// The data of the stream's message at `sequence`; not_found when there is none.
Status stream_message_data(jsCtx* js, const std::string& stream, uint64_t sequence, std::string* out);

// The stored value at `position` of the local log; not_found past the head.
Status stored_value_at(const LogStore& log, uint64_t position, std::string* out);

// ok when the stream's message at `position` is byte for byte the local log's event there;
// corruption (naming the position) when it is another event: the stream belongs to another ledger.
Status check_stream_matches_log(jsCtx* js, const std::string& stream, const LogStore& log, uint64_t position);

}  // namespace tl::nats
