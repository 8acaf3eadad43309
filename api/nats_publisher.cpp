#include "api/nats_publisher.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "api/nats_connection.h"
#include "engine/canonical_record.h"
#include "engine/record_codec.h"
#include "engine/sha256.h"
#include "projections/json_text.h"
#include "engine/thread_name.h"

namespace tl {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* msg_id_header = "Nats-Msg-Id";
constexpr const char* expected_last_sequence_header = "Nats-Expected-Last-Sequence";
constexpr const char* expected_last_msg_id_header = "Nats-Expected-Last-Msg-Id";
constexpr int64_t nanos_per_ms = 1'000'000;
// After ack_wait_ms every publish has had its callback (acknowledged or timed out); this much more
// covers the library's timer granularity.
constexpr int64_t settle_grace_ms = 1'000;

// A message's id: its position and its event's hash, "42-<64 hex>". The hash makes the id name
// the event and not only the place: a copy of this ledger that parted from it publishes other
// ids at the same positions, which the stream neither drops as duplicates nor takes as the
// expected last message.
std::string message_id(uint64_t position, const Digest& hash) { return fmt::format("{}-{}", position, to_hex(hash)); }

// The position at the front of a message id.
uint64_t parse_position(const char* text) {
  if (text == nullptr) return 0;
  std::string_view view(text);
  view = view.substr(0, view.find('-'));
  uint64_t position = 0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), position);
  return error == std::errc() && end == view.data() + view.size() ? position : 0;
}

void log_line(const std::string& text) { std::fprintf(stderr, "tutorledger: nats: %s\n", text.c_str()); }

}  // namespace

struct NatsPublisher::Impl {
  Impl(const LogStore& log_store, NatsPublisherOptions publisher_options)
      : log(log_store), options(std::move(publisher_options)) {}

  const LogStore& log;
  const NatsPublisherOptions options;
  std::thread thread;

  // Shared with the acknowledgement callback (a nats.c thread) and with status readers.
  mutable std::mutex mutex;
  std::condition_variable wake;  // an acknowledgement arrived, or stop()
  bool stopping = false;
  size_t in_flight = 0;
  bool publish_failed = false;   // some publish failed since the last resync
  bool refused = false;
  std::string problem;
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> published_position{0};
  // Whether the stream has told this publisher where it stands (a resync succeeded): before, after
  // a start-up with NATS away or a refusal, published_position is not the stream's.
  std::atomic<bool> position_known{false};
  std::atomic<uint64_t> resyncs{0};

  // The publisher thread's own.
  std::unique_ptr<nats::Session> session;
  uint64_t next_position = 1;
  bool need_resync = true;
  bool expect_last_id = false;  // whether the next publish names the message before it (see publish_one)
  uint64_t reconnects_seen = 0;
  std::string last_logged_problem;
  RecordDecoder decoder;  // for the rare stored value whose front cannot be read directly
  EventRecord scratch_record;

  void run();
  bool connect();
  Status resync();
  Status create_stream();
  bool publish_available();  // true when more is ready than the window let through
  bool publish_one(uint64_t position, std::string_view value);
  void finish();
  bool wait_settled(int64_t timeout_ms);
  void pause(int64_t timeout_ms, bool until_ack);
  void note_problem(const std::string& text);
  void refuse(const std::string& text);
  bool should_stop() const {
    std::lock_guard lock(mutex);
    return stopping || refused;
  }

  static void on_ack(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure);
  void settle(uint64_t position, uint64_t sequence, const std::string& error);
};

void NatsPublisher::Impl::run() {
  while (!should_stop()) {
    if (!session && !connect()) {
      pause(options.retry_ms, false);
      continue;
    }
    const bool up = session->connected();
    connected.store(up, std::memory_order_relaxed);
    if (!up) {  // nats.c is reconnecting; what was in flight may be lost, so resync afterwards
      need_resync = true;
      pause(options.retry_ms, false);
      continue;
    }
    if (const uint64_t reconnects = session->reconnects(); reconnects != reconnects_seen) {
      reconnects_seen = reconnects;
      need_resync = true;
    }
    std::string failure;
    {
      std::lock_guard lock(mutex);
      if (publish_failed) failure = problem;
    }
    if (!failure.empty()) {
      need_resync = true;
      note_problem(failure);  // logged once per distinct failure
    }
    if (need_resync) {
      if (!wait_settled(options.ack_wait_ms + settle_grace_ms)) continue;
      const Status status = resync();
      if (status.is_corruption()) {
        refuse(status.message());
        break;
      }
      if (!status.is_ok()) {
        note_problem(status.to_string());
        pause(options.retry_ms, false);
        continue;
      }
      need_resync = false;
    }
    const bool window_full = publish_available();
    pause(options.idle_poll_ms, window_full);
  }
  finish();
}

bool NatsPublisher::Impl::connect() {
  nats::ConnectOptions connect_options;
  connect_options.url = options.url;
  connect_options.name = "tutorledger-publisher";
  connect_options.connect_timeout_ms = options.connect_timeout_ms;
  connect_options.ack_handler = &Impl::on_ack;
  connect_options.ack_handler_closure = this;
  // Our own window is the bound; the library's must never make a publish wait.
  connect_options.publish_async_pending_max = static_cast<int64_t>(options.in_flight_messages_max) * 2;
  const Status status = nats::Session::connect(connect_options, &session);
  if (!status.is_ok()) {
    connected.store(false, std::memory_order_relaxed);
    note_problem(status.message());
    return false;
  }
  log_line("connected to " + options.url);
  reconnects_seen = session->reconnects();
  need_resync = true;
  return true;
}

// Where to resume: right after the stream's last message, once that message is shown to be ours.
Status NatsPublisher::Impl::resync() {
  assert(session && in_flight == 0);
  resyncs.fetch_add(1, std::memory_order_relaxed);
  nats::StreamState state;
  Status status = nats::stream_state(session->jetstream(), options.stream, &state);
  if (status.is_not_found()) {
    if (status = create_stream(); !status.is_ok()) return status;
    status = nats::stream_state(session->jetstream(), options.stream, &state);
  }
  if (!status.is_ok()) return status;
  const uint64_t head = log.head().position;
  if (state.last_sequence > head) {
    return Status::corruption(fmt::format("stream {} is ahead of the local log (stream at {}, log at {}): it belongs "
                                          "to another ledger, or this log lost events",
                                          options.stream, state.last_sequence, head));
  }
  if (state.last_sequence > 0) {
    status = nats::check_stream_matches_log(session->jetstream(), options.stream, log, state.last_sequence);
    if (!status.is_ok()) return status;
  }
  {
    std::lock_guard lock(mutex);
    publish_failed = false;
  }
  published_position.store(state.last_sequence, std::memory_order_relaxed);
  position_known.store(true, std::memory_order_relaxed);
  next_position = state.last_sequence + 1;
  expect_last_id = false;
  log_line(fmt::format("stream {} at position {}; publishing from {}", options.stream, state.last_sequence,
                       next_position));
  last_logged_problem.clear();
  return Status::ok();
}

Status NatsPublisher::Impl::create_stream() {
  const std::string subject = all_events_subject(options.subject_prefix);
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options.stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;  // with no limits set: the whole log stays
  config.Replicas = options.replicas;
  config.Duplicates = options.duplicate_window_ms * nanos_per_ms;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, session->jetstream(), &config, nullptr, &code);
  jsStreamInfo_Destroy(info);
  if (s == NATS_OK) {
    log_line(fmt::format("created stream {} (subjects {}, file storage, {} replicas)", options.stream, subject,
                         options.replicas));
    return Status::ok();
  }
  if (code == JSStreamNameExistErr) return Status::ok();  // someone created it meanwhile
  if (code == JSStreamSubjectOverlapErr) {
    // Another stream holds these subjects (another name for this ledger's stream, or another
    // ledger's): retrying cannot help, and publishing beside it would split the events.
    return Status::corruption(fmt::format("stream {} cannot be created: another stream on this NATS already takes "
                                          "the subjects {} (one ledger per NATS account; give that stream's name "
                                          "with --nats-stream)",
                                          options.stream, subject));
  }
  return Status::io_error(nats::describe("create stream " + options.stream, s, code));
}

bool NatsPublisher::Impl::publish_available() {
  const uint64_t head = log.head().position;
  if (next_position > head) return false;
  size_t room = 0;
  {
    std::lock_guard lock(mutex);
    if (publish_failed || refused) return false;
    room = options.in_flight_messages_max - in_flight;
  }
  if (room == 0) return true;
  size_t sent = 0;
  std::string gap;
  const Status scanned = log.scan_raw(next_position, [&](uint64_t position, std::string_view value) {
    if (position > head || sent == room) return false;
    if (position != next_position) {
      gap = fmt::format("the local log has no event {} (next is {})", next_position, position);
      return false;
    }
    if (!publish_one(position, value)) return false;
    ++sent;
    ++next_position;
    return true;
  });
  if (!gap.empty()) refuse(gap);
  if (!scanned.is_ok()) note_problem("reading the log: " + scanned.to_string());
  return next_position <= head && sent == room;
}

bool NatsPublisher::Impl::publish_one(uint64_t position, std::string_view value) {
  std::string subject;
  if (const auto front = read_stored_record_front(value); front && front->position == position) {
    subject = event_subject(options.subject_prefix, front->stream);
  } else if (decoder.decode(value, &scratch_record).is_ok() && scratch_record.position == position) {
    subject = event_subject(options.subject_prefix, scratch_record.stream);
  } else {
    refuse(fmt::format("position {}: the stored value cannot be read", position));
    return false;
  }
  Digest prev_hash{};
  Digest hash{};
  if (!read_canonical_chain(value, &prev_hash, &hash)) {
    refuse(fmt::format("position {}: the stored value has no hash chain to read", position));
    return false;
  }
  natsMsg* message = nullptr;
  natsStatus s = natsMsg_Create(&message, subject.c_str(), nullptr, value.data(), static_cast<int>(value.size()));
  const std::string id = message_id(position, hash);
  const std::string expected = std::to_string(position - 1);
  if (s == NATS_OK) s = natsMsgHeader_Set(message, msg_id_header, id.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(message, expected_last_sequence_header, expected.c_str());
  // The stream's last message must be this log's event before this one, by content: with the
  // sequence alone, a second publisher holding a copy of this log could append after our event
  // (or we after its). The first publish after a resync goes without: the resync has just
  // compared that message with the log, and the stream forgets its last id when it restarts.
  if (s == NATS_OK && position > 1 && expect_last_id) {
    s = natsMsgHeader_Set(message, expected_last_msg_id_header, message_id(position - 1, prev_hash).c_str());
  }
  expect_last_id = true;
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MaxWait = options.ack_wait_ms;  // the library times the acknowledgement out
  {
    std::lock_guard lock(mutex);
    ++in_flight;  // before the publish: its acknowledgement may come before the call returns
  }
  if (s == NATS_OK) s = js_PublishMsgAsync(session->jetstream(), &message, &publish_options);
  if (s == NATS_OK) return true;
  const std::string error = nats::describe(fmt::format("publish position {}", position), s);
  natsMsg_Destroy(message);  // still ours when the publish failed (null-safe)
  std::lock_guard lock(mutex);
  --in_flight;
  if (!publish_failed) problem = error;
  publish_failed = true;
  wake.notify_all();
  return false;
}

void NatsPublisher::Impl::on_ack(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  auto* self = static_cast<Impl*>(closure);
  const char* id = nullptr;
  natsMsgHeader_Get(message, msg_id_header, &id);
  const uint64_t position = parse_position(id);
  std::string error_text;
  if (ack == nullptr) {
    const natsStatus status = error != nullptr ? error->Err : NATS_ERR;
    const jsErrCode code = error != nullptr ? error->ErrCode : static_cast<jsErrCode>(0);
    error_text = fmt::format("publish position {}: {}{}", position, natsStatus_GetText(status),
                             code != 0 ? fmt::format(" (JetStream error {})", static_cast<int>(code)) : "");
    if (error != nullptr && error->ErrText != nullptr) error_text += fmt::format(": {}", error->ErrText);
  }
  const uint64_t sequence = ack != nullptr ? ack->Sequence : 0;
  natsMsg_Destroy(message);
  self->settle(position, sequence, error_text);  // the last touch of `self`
}

void NatsPublisher::Impl::settle(uint64_t position, uint64_t sequence, const std::string& error) {
  std::lock_guard lock(mutex);
  assert(in_flight > 0);
  if (!error.empty()) {
    if (!publish_failed) problem = error;
    publish_failed = true;
  } else if (sequence != position) {
    // A stored message whose sequence is not its position: someone else writes to the stream.
    refused = true;
    problem = fmt::format("position {} was stored at stream sequence {}: another publisher writes to stream {}",
                          position, sequence, options.stream);
  } else if (sequence > published_position.load(std::memory_order_relaxed)) {
    // Expected-last-sequence makes the stream gapless: sequence N stored means 1..N are.
    published_position.store(sequence, std::memory_order_relaxed);
  }
  --in_flight;
  wake.notify_all();
}

bool NatsPublisher::Impl::wait_settled(int64_t timeout_ms) {
  std::unique_lock lock(mutex);
  return wake.wait_for(lock, milliseconds(timeout_ms), [&] { return in_flight == 0; });
}

void NatsPublisher::Impl::pause(int64_t timeout_ms, bool until_ack) {
  std::unique_lock lock(mutex);
  const size_t in_flight_before = in_flight;
  wake.wait_for(lock, milliseconds(timeout_ms), [&] {
    return stopping || refused || publish_failed || (until_ack && in_flight < in_flight_before);
  });
}

void NatsPublisher::Impl::note_problem(const std::string& text) {
  {
    std::lock_guard lock(mutex);
    problem = text;
  }
  if (text != last_logged_problem) log_line(text + " (retrying)");
  last_logged_problem = text;
}

void NatsPublisher::Impl::refuse(const std::string& text) {
  {
    std::lock_guard lock(mutex);
    if (refused) return;
    refused = true;
    problem = text;
  }
  log_line("REFUSED, publishing stopped: " + text);
}

// On stop: publish what is left for a bounded time, then let what is in flight settle before the
// connection goes, so that no acknowledgement callback outlives this object.
void NatsPublisher::Impl::finish() {
  if (!session) return;
  bool refused_now = false;
  {
    std::lock_guard lock(mutex);
    refused_now = refused;
  }
  const auto deadline = Clock::now() + milliseconds(options.stop_drain_ms);
  while (!refused_now && !need_resync && session->connected() && Clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (publish_failed || refused) break;
      if (next_position > log.head().position && in_flight == 0) break;
    }
    pause(options.idle_poll_ms, publish_available());
  }
  if (!wait_settled(options.ack_wait_ms + settle_grace_ms)) log_line("stopping with publishes still unacknowledged");
  session.reset();
  connected.store(false, std::memory_order_relaxed);
  log_line(fmt::format("stopped at position {} of {}", published_position.load(), log.head().position));
}

NatsPublisher::NatsPublisher(const LogStore& log, NatsPublisherOptions options)
    : impl_(std::make_unique<Impl>(log, std::move(options))) {
  assert(!impl_->options.url.empty() && !impl_->options.stream.empty());
  assert(impl_->options.in_flight_messages_max > 0 && impl_->options.replicas >= 1);
}

NatsPublisher::~NatsPublisher() { stop(); }

void NatsPublisher::start() {
  assert(!impl_->thread.joinable());
  impl_->thread = std::thread([impl = impl_.get()] {
    name_this_thread("tl-nats-publish");
    impl->run();
  });
}

void NatsPublisher::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

NatsPublisherStatus NatsPublisher::status() const {
  NatsPublisherStatus status;
  status.connected = impl_->connected.load(std::memory_order_relaxed);
  status.published_position = impl_->published_position.load(std::memory_order_relaxed);
  status.published_known = impl_->position_known.load(std::memory_order_relaxed);
  status.log_position = std::max(impl_->log.head().position, status.published_position);
  status.resyncs = impl_->resyncs.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->mutex);
  status.refused = impl_->refused;
  status.problem = impl_->problem;
  return status;
}

void NatsPublisher::register_metrics(MetricsRegistry& registry) const {
  const Impl* impl = impl_.get();
  registry.gauge_callback("tl_nats_publish_lag_events", "Events in the log not yet acknowledged by JetStream", [impl] {
    const uint64_t head = impl->log.head().position;
    const uint64_t published = impl->published_position.load(std::memory_order_relaxed);
    return static_cast<int64_t>(head > published ? head - published : 0);
  });
  registry.gauge_callback("tl_nats_published_position", "Last log position JetStream acknowledged", [impl] {
    return static_cast<int64_t>(impl->published_position.load(std::memory_order_relaxed));
  });
  registry.gauge_callback("tl_nats_connected", "1 while the publisher is connected to NATS", [impl] {
    return int64_t{impl->connected.load(std::memory_order_relaxed) ? 1 : 0};
  });
}

void NatsPublisher::append_health(std::string& json, uint64_t position) const {
  const NatsPublisherStatus now = status();
  // Published beyond `position` is published up to it; the log may have grown since it was read.
  const uint64_t published = std::min(now.published_position, position);
  if (now.published_known) {
    fmt::format_to(std::back_inserter(json), R"("nats":{{"connected":{},"published":{},"lag":{})", now.connected,
                   published, position - published);
  } else {  // not yet told by the stream (NATS away since start-up): unknown, not 0
    fmt::format_to(std::back_inserter(json), R"("nats":{{"connected":{},"published":null,"lag":null)", now.connected);
  }
  if (now.refused) {
    json += ",\"refused\":";
    json::append_string(json, now.problem);
  }
  json += '}';
}

}  // namespace tl
