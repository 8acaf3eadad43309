#pragma once
// Publishes the committed log, in order, to a NATS JetStream stream (DESIGN section 7), from its
// own thread, so that stream sequence N is ledger position N. It only reads the log (head() and
// scan_raw()); the engine's writer never waits for it, and the server keeps taking commands while
// NATS is away: the publisher catches up when NATS is back.
//
// Each message: subject `tl.events.<stream type>`, data = the stored value (canonical JSON with
// its hash, byte for byte), headers Nats-Msg-Id = "<position>-<hash>" (the stream's duplicate
// window drops a re-publish of the same event), Nats-Expected-Last-Sequence = position - 1 and
// Nats-Expected-Last-Msg-Id = the id of the event before it (the server refuses anything out of
// order, and anything that does not follow this log's own previous event: a copy of this ledger
// that parted from it cannot fork the stream). Publishing is asynchronous with at most `in_flight_messages_max` unacknowledged; on any
// error, timeout or reconnect the publisher waits for what is in flight to settle, asks the stream
// for its last sequence and resumes right after it: nothing skipped, nothing stored twice.
//
// It refuses to go on (and says so in status(), /healthz and stderr) when the stream is ahead of
// the local log or its last message is not the local event at that position: another ledger.
#include <cstdint>
#include <memory>
#include <string>

#include "api/metrics.h"
#include "api/nats_subject.h"
#include "engine/log_store.h"

namespace tl {

struct NatsPublisherOptions {
  std::string url;                                    // nats://host:port, several comma-separated
  std::string stream = "TUTORLEDGER_EVENTS";
  std::string subject_prefix = std::string(nats_subject_prefix_default);
  int replicas = 1;                                   // of a stream this publisher creates
  int64_t duplicate_window_ms = 2 * 60 * 1000;        // of a stream this publisher creates
  size_t in_flight_messages_max = 256;                // published, not yet acknowledged
  int64_t idle_poll_ms = 2;                           // how often a caught-up publisher reads the head
  int64_t ack_wait_ms = 5'000;                        // an unacknowledged publish fails after this
  int64_t retry_ms = 500;                             // pause before reconnecting or resyncing again
  int64_t connect_timeout_ms = 2'000;
  int64_t stop_drain_ms = 2'000;                      // stop(): time to publish what is left
};

struct NatsPublisherStatus {
  bool connected = false;
  uint64_t published_position = 0;  // the stream's last sequence as acknowledged to this publisher
  bool published_known = false;     // the stream has said where it stands since start-up
  uint64_t log_position = 0;        // the local log head
  bool refused = false;             // the stream is another ledger's: nothing more is published
  std::string problem;              // why it refused, or the last error it is retrying after
  uint64_t resyncs = 0;             // times it asked the stream where to resume
  uint64_t lag_events() const { return log_position > published_position ? log_position - published_position : 0; }
};

class NatsPublisher {
 public:
  NatsPublisher(const LogStore& log, NatsPublisherOptions options);  // the log must outlive it
  ~NatsPublisher();  // stop()
  NatsPublisher(const NatsPublisher&) = delete;
  NatsPublisher& operator=(const NatsPublisher&) = delete;

  void start();  // starts the thread; connecting and creating the stream happen there
  // Publishes what is left for up to stop_drain_ms, then closes the connection. Idempotent.
  void stop();

  NatsPublisherStatus status() const;
  // tl_nats_publish_lag_events, tl_nats_published_position, tl_nats_connected. The registry must
  // not be rendered after this publisher is gone.
  void register_metrics(MetricsRegistry& registry) const;
  // Appends `"nats":{"connected":..,"published":..,"lag":..}` (and "refused" when it refused), as
  // of log position `position` (what /healthz shows): published is at most it, and
  // published + lag == position, although the log and the publisher move while this runs.
  void append_health(std::string& json, uint64_t position) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
