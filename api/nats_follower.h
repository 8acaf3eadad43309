#pragma once
// The read replica's side of DESIGN section 7: follows the JetStream stream the primary's
// NatsPublisher fills, and feeds it to an Engine opened with `replica = true`.
//
// A durable pull consumer (explicit acks) starts right after the local log's head: the local log
// is the truth of where the replica is, so on start (and after a reconnect or a gap) a durable
// that would deliver anything else is deleted and created again. Each fetched batch (at most
// fetch_messages_max messages or fetch_bytes_max bytes) is checked (stream sequence == the
// position inside the stored value == the next local position), handed to Engine::replicate(),
// and acknowledged only after that returned ok. Redeliveries of positions already applied are
// acknowledged and skipped. Corruption stops the follower for good, with a message naming the
// position; nothing is ever skipped.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/metrics.h"
#include "api/nats_subject.h"
#include "engine/engine.h"
#include "engine/status.h"

namespace tl {

struct NatsFollowerOptions {
  std::string url;                                    // nats://host:port, several comma-separated
  std::string stream = "TUTORLEDGER_EVENTS";
  std::string subject_prefix = std::string(nats_subject_prefix_default);
  std::string consumer = "replica";                   // durable name; one per replica
  size_t fetch_messages_max = 256;
  int64_t fetch_bytes_max = 64 * 1024;                // a bigger single event is fetched alone
  // How long one fetch waits to fill its batch. A partial batch (the end of a burst, or a quiet
  // primary) waits all of it, so this bounds the replica's lag then; an idle replica makes
  // 1000 / fetch_wait_ms cheap requests a second. 500 ms gave a p99 lag of 152 ms under load
  // (bench/nats_bench), 50 ms gave 72 ms.
  int64_t fetch_wait_ms = 50;
  int64_t ack_wait_ms = 30'000;                       // the consumer redelivers after this
  int64_t retry_ms = 500;                             // pause before reconnecting or set-up again
  int64_t connect_timeout_ms = 2'000;
  // Called on the follower's thread after a batch was applied and acknowledged: the `at` of each
  // of its events, in order. Keep it short.
  std::function<void(const std::vector<TimeMs>& applied_ats)> on_applied;
  // Called once on the follower's thread when it stops for good (corruption); the Status names
  // the position. status().stopped turns true only after it has returned.
  std::function<void(const Status& why)> on_stopped;
};

struct NatsFollowerStatus {
  bool connected = false;
  uint64_t applied_position = 0;     // the local log head
  uint64_t lag_events = 0;           // messages in the stream after the last one applied
  bool lag_known = false;            // lag_events measured since the last (re)connection
  TimeMs newest_applied_at = 0;      // `at` of the newest applied event (0 before any)
  bool stopped = false;              // stopped for good: see problem
  std::string problem;               // why it stopped, or the last error it is retrying after
  uint64_t applied_events_total = 0;
  uint64_t redeliveries_skipped_total = 0;
  uint64_t consumer_resets_total = 0;  // durables deleted and created again
};

class NatsFollower {
 public:
  NatsFollower(Engine& engine, NatsFollowerOptions options);  // engine: replica = true; outlives this
  ~NatsFollower();  // stop()
  NatsFollower(const NatsFollower&) = delete;
  NatsFollower& operator=(const NatsFollower&) = delete;

  void start();
  void stop();  // idempotent; the durable consumer stays on the server for the next start

  NatsFollowerStatus status() const;
  // tl_replica_lag_events, tl_replica_lag_seconds, tl_replica_applied_position, tl_replica_connected.
  // `now_ms` is the wall clock the lag in seconds is measured with.
  void register_metrics(MetricsRegistry& registry, std::function<TimeMs()> now_ms) const;
  // Appends `"replica":{"connected":..,"applied":..,"lag":..}` (and "stopped" when it stopped).
  void append_health(std::string& json) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What to do with one fetched message, given the next position the local log expects.
enum class FetchedMessageAction {
  apply,     // sequence == expected: append it
  skip,      // sequence < expected: a redelivery of something applied; ack and drop
  gap,       // sequence > expected: something in between was lost in transit; re-create the consumer
};
FetchedMessageAction classify_fetched_message(uint64_t stream_sequence, uint64_t expected_position);

}  // namespace tl
