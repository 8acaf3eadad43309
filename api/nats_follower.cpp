#include "api/nats_follower.h"

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "api/nats_connection.h"
#include "engine/record_codec.h"
#include "projections/json_text.h"
#include "engine/thread_name.h"

namespace tl {
namespace {

using std::chrono::milliseconds;

constexpr int64_t nanos_per_ms = 1'000'000;
// A fetch of one message whose stored value may be as big as a record can be (plus headers).
constexpr int64_t fetch_single_bytes_max = static_cast<int64_t>(stored_record_bytes_max) + 64 * 1024;
constexpr int64_t engine_busy_pause_ms = 5;

void log_line(const std::string& text) { std::fprintf(stderr, "tutorledger: replica: %s\n", text.c_str()); }

struct MessageListGuard {
  natsMsgList& list;
  ~MessageListGuard() { natsMsgList_Destroy(&list); }
};

}  // namespace

FetchedMessageAction classify_fetched_message(uint64_t stream_sequence, uint64_t expected_position) {
  assert(expected_position > 0);
  if (stream_sequence < expected_position) return FetchedMessageAction::skip;
  if (stream_sequence > expected_position) return FetchedMessageAction::gap;
  return FetchedMessageAction::apply;
}

struct NatsFollower::Impl {
  Impl(Engine& replica_engine, NatsFollowerOptions follower_options)
      : engine(replica_engine), options(std::move(follower_options)), subject(all_events_subject(options.subject_prefix)) {}

  Engine& engine;
  const NatsFollowerOptions options;
  const std::string subject;
  std::thread thread;

  mutable std::mutex mutex;
  std::condition_variable wake;  // stop()
  bool stopping = false;
  bool stopped = false;
  std::string problem;
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> lag_events{0};
  // Whether lag_events was measured since the last (re)connection: while away from NATS, or
  // before the first fetch, the stream may have grown by any number of messages.
  std::atomic<bool> lag_known{false};
  std::atomic<int64_t> newest_applied_at{0};
  std::atomic<uint64_t> applied_events_total{0};
  std::atomic<uint64_t> redeliveries_skipped_total{0};
  std::atomic<uint64_t> consumer_resets_total{0};

  // The follower thread's own.
  std::unique_ptr<nats::Session> session;
  natsSubscription* subscription = nullptr;
  bool need_setup = true;
  bool fetch_single_next = false;  // the last fetch failed: maybe one message is over fetch_bytes_max
  uint64_t reconnects_seen = 0;
  std::string last_logged_problem;
  RecordDecoder decoder;
  EventRecord record;

  void run();
  bool connect();
  // Sets the consumer up again before the next fetch; until a fetch measures it, the lag is unknown.
  void follow_again() {
    need_setup = true;
    lag_known.store(false, std::memory_order_relaxed);
  }
  Status setup_consumer();
  Status ensure_consumer(uint64_t head);
  Status fetch_and_apply();
  Status replicate(const std::vector<std::string>& values);
  Status apply_one_by_one(const std::vector<std::string>& values, const std::vector<natsMsg*>& messages,
                          const std::vector<TimeMs>& ats, uint64_t last_pending);
  void applied(const std::vector<natsMsg*>& messages, const std::vector<TimeMs>& ats, uint64_t pending_after);
  void drop_subscription();
  void pause(int64_t timeout_ms);
  void note_problem(const std::string& text);
  void stop_for_good(const Status& why);
  bool should_stop() const {
    std::lock_guard lock(mutex);
    return stopping || stopped;
  }
};

void NatsFollower::Impl::run() {
  while (!should_stop()) {
    if (!session && !connect()) {
      pause(options.retry_ms);
      continue;
    }
    const bool up = session->connected();
    connected.store(up, std::memory_order_relaxed);
    if (!up) {  // nats.c is reconnecting
      follow_again();
      pause(options.retry_ms);
      continue;
    }
    if (const uint64_t reconnects = session->reconnects(); reconnects != reconnects_seen) {
      reconnects_seen = reconnects;
      follow_again();  // fetches and acks may have been lost on the way
    }
    Status status = Status::ok();
    if (need_setup) {
      status = setup_consumer();
      if (status.is_ok()) need_setup = false;
    } else {
      status = fetch_and_apply();
    }
    if (status.is_corruption()) {
      stop_for_good(status);
      break;
    }
    if (!status.is_ok()) {
      note_problem(status.to_string());
      pause(options.retry_ms);
    }
  }
  drop_subscription();
  session.reset();
  connected.store(false, std::memory_order_relaxed);
}

bool NatsFollower::Impl::connect() {
  nats::ConnectOptions connect_options;
  connect_options.url = options.url;
  connect_options.name = "tutorledger-replica-" + options.consumer;
  connect_options.connect_timeout_ms = options.connect_timeout_ms;
  const Status status = nats::Session::connect(connect_options, &session);
  if (!status.is_ok()) {
    connected.store(false, std::memory_order_relaxed);
    note_problem(status.message());
    return false;
  }
  log_line("connected to " + options.url);
  reconnects_seen = session->reconnects();
  follow_again();
  return true;
}

// A pull subscription on a durable that delivers exactly from the local head + 1.
Status NatsFollower::Impl::setup_consumer() {
  drop_subscription();
  jsCtx* js = session->jetstream();
  nats::StreamState state;
  const Status found = nats::stream_state(js, options.stream, &state);
  if (found.is_not_found()) return Status::not_found("stream " + options.stream + " does not exist yet; waiting for the primary");
  if (!found.is_ok()) return found;
  const uint64_t head = engine.log().head().position;
  if (state.last_sequence < head) {
    return Status::busy(fmt::format("stream {} ends at {}, before this replica's position {}; waiting for it",
                                    options.stream, state.last_sequence, head));
  }
  if (head > 0) {
    if (Status same = nats::check_stream_matches_log(js, options.stream, engine.log(), head); !same.is_ok()) return same;
  }
  if (Status consumer = ensure_consumer(head); !consumer.is_ok()) return consumer;
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options.stream.c_str();
  sub_options.Consumer = options.consumer.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_PullSubscribe(&subscription, js, subject.c_str(), options.consumer.c_str(), nullptr, &sub_options, &code);
  if (s != NATS_OK) {
    subscription = nullptr;
    return Status::io_error(nats::describe("pull subscribe " + options.consumer, s, code));
  }
  log_line(fmt::format("following stream {} (at {}) with consumer {} from position {}", options.stream,
                       state.last_sequence, options.consumer, head + 1));
  last_logged_problem.clear();
  return Status::ok();
}

// Keeps the durable when it would deliver head + 1 next with nothing unacknowledged; otherwise the
// local log wins: delete it and create it again at head + 1.
Status NatsFollower::Impl::ensure_consumer(uint64_t head) {
  jsCtx* js = session->jetstream();
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, js, options.stream.c_str(), options.consumer.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    const jsConsumerConfig* config = info->Config;
    const bool same_filter = config != nullptr && config->FilterSubject != nullptr && subject == config->FilterSubject;
    const bool reusable = same_filter && config->AckPolicy == js_AckExplicit && info->NumAckPending == 0 &&
                          info->Delivered.Stream == head;
    const uint64_t delivered = info->Delivered.Stream;
    const int64_t unacknowledged = info->NumAckPending;
    jsConsumerInfo_Destroy(info);
    if (reusable) return Status::ok();
    s = js_DeleteConsumer(js, options.stream.c_str(), options.consumer.c_str(), nullptr, &code);
    if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
      return Status::io_error(nats::describe("delete consumer " + options.consumer, s, code));
    }
    consumer_resets_total.fetch_add(1, std::memory_order_relaxed);
    log_line(fmt::format("consumer {} had delivered up to {} ({} unacknowledged); the local log is at {}: "
                         "creating it again",
                         options.consumer, delivered, unacknowledged, head));
  } else if (s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    return Status::io_error(nats::describe("consumer info " + options.consumer, s, code));
  }
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = options.consumer.c_str();
  config.AckPolicy = js_AckExplicit;
  config.AckWait = options.ack_wait_ms * nanos_per_ms;
  config.FilterSubject = subject.c_str();
  config.MaxAckPending = static_cast<int64_t>(options.fetch_messages_max) * 4;
  config.DeliverPolicy = head == 0 ? js_DeliverAll : js_DeliverByStartSequence;
  config.OptStartSeq = head == 0 ? 0 : head + 1;
  info = nullptr;
  s = js_AddConsumer(&info, js, options.stream.c_str(), &config, nullptr, &code);
  jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) return Status::io_error(nats::describe("create consumer " + options.consumer, s, code));
  return Status::ok();
}

Status NatsFollower::Impl::fetch_and_apply() {
  assert(subscription != nullptr);
  jsFetchRequest request;
  jsFetchRequest_Init(&request);
  request.Batch = fetch_single_next ? 1 : static_cast<int>(options.fetch_messages_max);
  request.MaxBytes = fetch_single_next ? fetch_single_bytes_max : options.fetch_bytes_max;
  request.Expires = options.fetch_wait_ms * nanos_per_ms;
  natsMsgList list{nullptr, 0};
  const natsStatus fetched = natsSubscription_FetchRequest(&list, subscription, &request);
  MessageListGuard guard{list};
  if (list.Count == 0) {
    if (fetched == NATS_TIMEOUT || fetched == NATS_OK) {  // nothing new: caught up
      lag_events.store(0, std::memory_order_relaxed);
      lag_known.store(true, std::memory_order_relaxed);
      fetch_single_next = false;
      return Status::ok();
    }
    if (!fetch_single_next) {  // e.g. one message over fetch_bytes_max: fetch it alone next
      fetch_single_next = true;
      return Status::ok();
    }
    fetch_single_next = false;
    follow_again();  // the consumer may be gone (deleted, or lost with its nodes)
    return Status::io_error(nats::describe("fetch", fetched));
  }
  fetch_single_next = false;

  uint64_t expected = engine.log().head().position + 1;
  std::vector<std::string> values;
  std::vector<natsMsg*> to_acknowledge;
  std::vector<TimeMs> ats;
  uint64_t pending_after = 0;
  Status bad = Status::ok();
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* message = list.Msgs[i];
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, message) != NATS_OK) {
      follow_again();  // not a JetStream delivery: start over from the local head
      break;
    }
    const uint64_t sequence = meta->Sequence.Stream;
    const uint64_t pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    const FetchedMessageAction action = classify_fetched_message(sequence, expected);
    if (action == FetchedMessageAction::skip) {
      natsMsg_Ack(message, nullptr);
      redeliveries_skipped_total.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (action == FetchedMessageAction::gap) {
      log_line(fmt::format("received stream sequence {} while expecting {}: following again from the local log",
                           sequence, expected));
      follow_again();
      break;
    }
    const std::string_view data(natsMsg_GetData(message), static_cast<size_t>(natsMsg_GetDataLength(message)));
    if (Status decoded = decoder.decode(data, &record); !decoded.is_ok()) {
      bad = Status::corruption(fmt::format("position {}: {}", sequence, decoded.message()));
      break;
    }
    if (record.position != sequence) {
      bad = Status::corruption(fmt::format("position {}: the message at stream sequence {} carries position {}",
                                           sequence, sequence, record.position));
      break;
    }
    values.emplace_back(data);
    to_acknowledge.push_back(message);
    ats.push_back(record.at);
    pending_after = pending;
    ++expected;
  }
  if (values.empty()) return bad;
  Status status = replicate(values);
  if (status.is_corruption() && values.size() > 1) {
    // The log took none of the batch. Everything before the damaged event is sound: apply that
    // much, so the replica stops right before the damage, which the one-by-one pass then names.
    status = apply_one_by_one(values, to_acknowledge, ats, pending_after);
    return status.is_ok() ? bad : status;
  }
  if (!status.is_ok()) {
    if (!status.is_corruption()) need_setup = true;  // unacknowledged: have them delivered again
    return status;
  }
  applied(to_acknowledge, ats, pending_after);
  return bad;
}

Status NatsFollower::Impl::apply_one_by_one(const std::vector<std::string>& values, const std::vector<natsMsg*>& messages,
                                            const std::vector<TimeMs>& ats, uint64_t last_pending) {
  assert(values.size() == messages.size() && values.size() == ats.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Status status = replicate({values[i]});
    if (!status.is_ok()) return status;
    applied({messages[i]}, {ats[i]}, last_pending + (values.size() - 1 - i));
  }
  return Status::ok();
}

void NatsFollower::Impl::applied(const std::vector<natsMsg*>& messages, const std::vector<TimeMs>& ats,
                                 uint64_t pending_after) {
  assert(!messages.empty() && messages.size() == ats.size());
  for (natsMsg* message : messages) natsMsg_Ack(message, nullptr);
  applied_events_total.fetch_add(messages.size(), std::memory_order_relaxed);
  newest_applied_at.store(ats.back(), std::memory_order_relaxed);
  lag_events.store(pending_after, std::memory_order_relaxed);
  lag_known.store(true, std::memory_order_relaxed);
  if (options.on_applied) options.on_applied(ats);
}

Status NatsFollower::Impl::replicate(const std::vector<std::string>& values) {
  for (;;) {
    std::promise<Status> promise;
    std::future<Status> done = promise.get_future();
    // A copy: the caller keeps them for a retry when the engine is busy or the batch is refused.
    const SubmitResult queued = engine.replicate(values, [&promise](Status status) { promise.set_value(std::move(status)); });
    if (queued == SubmitResult::queued) return done.get();
    if (queued != SubmitResult::busy) return Status::busy("the replica engine is stopping");
    if (should_stop()) return Status::busy("stopping");
    std::this_thread::sleep_for(milliseconds(engine_busy_pause_ms));
  }
}

void NatsFollower::Impl::drop_subscription() {
  if (subscription == nullptr) return;
  natsSubscription_Destroy(subscription);  // bound to the durable: the consumer stays on the server
  subscription = nullptr;
}

void NatsFollower::Impl::pause(int64_t timeout_ms) {
  std::unique_lock lock(mutex);
  wake.wait_for(lock, milliseconds(timeout_ms), [&] { return stopping; });
}

void NatsFollower::Impl::note_problem(const std::string& text) {
  {
    std::lock_guard lock(mutex);
    problem = text;
  }
  if (text != last_logged_problem) log_line(text + " (retrying)");
  last_logged_problem = text;
}

void NatsFollower::Impl::stop_for_good(const Status& why) {
  const std::string text = fmt::format("STOPPED at position {}: {}", engine.log().head().position, why.to_string());
  log_line(text);
  if (options.on_stopped) options.on_stopped(why);
  // Published last, so that whoever sees status().stopped also sees what on_stopped did.
  std::lock_guard lock(mutex);
  stopped = true;
  problem = text;
}

NatsFollower::NatsFollower(Engine& engine, NatsFollowerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {
  assert(!impl_->options.url.empty() && !impl_->options.consumer.empty());
  assert(impl_->options.fetch_messages_max > 0 && impl_->options.fetch_bytes_max > 0);
}

NatsFollower::~NatsFollower() { stop(); }

void NatsFollower::start() {
  assert(!impl_->thread.joinable());
  impl_->thread = std::thread([impl = impl_.get()] {
    name_this_thread("tl-nats-follow");
    impl->run();
  });
}

void NatsFollower::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

NatsFollowerStatus NatsFollower::status() const {
  NatsFollowerStatus status;
  status.connected = impl_->connected.load(std::memory_order_relaxed);
  status.applied_position = impl_->engine.log().head().position;
  status.lag_events = impl_->lag_events.load(std::memory_order_relaxed);
  status.lag_known = impl_->lag_known.load(std::memory_order_relaxed);
  status.newest_applied_at = impl_->newest_applied_at.load(std::memory_order_relaxed);
  status.applied_events_total = impl_->applied_events_total.load(std::memory_order_relaxed);
  status.redeliveries_skipped_total = impl_->redeliveries_skipped_total.load(std::memory_order_relaxed);
  status.consumer_resets_total = impl_->consumer_resets_total.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->mutex);
  status.stopped = impl_->stopped;
  status.problem = impl_->problem;
  return status;
}

void NatsFollower::register_metrics(MetricsRegistry& registry, std::function<TimeMs()> now_ms) const {
  const Impl* impl = impl_.get();
  registry.gauge_callback("tl_replica_lag_events", "Messages in the stream after the last one applied", [impl] {
    return static_cast<int64_t>(impl->lag_events.load(std::memory_order_relaxed));
  });
  registry.gauge_callback("tl_replica_applied_position", "Position of the last event applied on this replica", [impl] {
    return static_cast<int64_t>(impl->engine.log().head().position);
  });
  registry.gauge_callback("tl_replica_connected", "1 while the replica is connected to NATS", [impl] {
    return int64_t{impl->connected.load(std::memory_order_relaxed) ? 1 : 0};
  });
  // Seconds with millisecond digits, written from integers (the registry's gauges are integers).
  registry.text_callback([impl, now_ms = std::move(now_ms)](std::string& out) {
    int64_t lag_ms = 0;
    const TimeMs newest = impl->newest_applied_at.load(std::memory_order_relaxed);
    if (impl->lag_events.load(std::memory_order_relaxed) > 0 && newest > 0) lag_ms = std::max<int64_t>(0, now_ms() - newest);
    out += "# HELP tl_replica_lag_seconds Age of the newest applied event while behind the stream, 0 when caught up\n";
    out += "# TYPE tl_replica_lag_seconds gauge\n";
    fmt::format_to(std::back_inserter(out), "tl_replica_lag_seconds {}.{:03}\n", lag_ms / 1000, lag_ms % 1000);
  });
}

void NatsFollower::append_health(std::string& json) const {
  const NatsFollowerStatus now = status();
  // A lag not measured since the last (re)connection is unknown (null), not 0.
  fmt::format_to(std::back_inserter(json), R"("replica":{{"connected":{},"applied":{},"lag":{})", now.connected,
                 now.applied_position, now.lag_known ? std::to_string(now.lag_events) : std::string("null"));
  if (now.stopped) {
    json += ",\"stopped\":";
    json::append_string(json, now.problem);
  }
  json += '}';
}

}  // namespace tl
