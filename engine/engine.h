#pragma once
// The engine: one writer thread owns the state (DESIGN section 1). Callers submit commands to a
// bounded queue; the writer drains up to `batch_commands_max`, decides each against the durable
// state, appends all resulting events and idempotency records in one synced WriteBatch, applies
// them, and only then answers each caller. Timers from the projections fire as system commands
// through the same path. Readers get a consistent view through a short shared lock.
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "engine/clock.h"
#include "engine/commands.h"
#include "engine/decide.h"
#include "engine/log_store.h"
#include "engine/status.h"
#include "projections/policy.h"
#include "projections/state.h"

namespace tl {

struct EngineOptions {
  std::string data_dir = "./data";
  Policy policy;
  size_t queue_commands_max = 65536;         // a full queue answers busy, never blocks
  size_t batch_commands_max = 2048;          // commands decided per WriteBatch (group commit)
  uint64_t checkpoint_events_max = 1'000'000;  // checkpoint after this many events...
  int64_t checkpoint_interval_ms = 10 * 60 * 1000;  // ...or this long, whichever comes first
  uint32_t timers_max = 100'000'000;         // pending timers (one per open booking at most)
  int64_t storage_retry_ms = 100;            // pause after a failed write before the next batch
  bool checkpoint_on_stop = true;            // tests and the recovery benchmark turn it off
  // Tests only: runs on the checkpoint thread before a scheduled checkpoint is hashed and written.
  std::function<void()> before_checkpoint_write;
  // An Idempotency-Key's stored answer is kept this long after it was decided (by the engine's
  // clock); a retry after that is decided afresh. API.md promises at least 24 h.
  int64_t idempotency_keep_seconds = 7 * 24 * 3600;
  // A read replica: follows a primary's log (replicate()), fires no timers, takes no commands.
  bool replica = false;
  LogOptions log;
};

// The answer to a submission: an HTTP-like status and a JSON body, stored byte for byte when the
// submission carried an idempotency key (DESIGN section 2, key `i`).
struct Reply {
  int status = 0;
  std::string body;
  bool replayed = false;  // the stored answer to an earlier identical request
};

// What a renderer sees: the durable state before this command's batch, and the decision. The
// command's own events are in decision.events (apply them to a copy of the entity to show it).
struct RenderInput {
  const State& state;
  const Command& command;
  const Decision& decision;
  const Policy& policy;
};
using Renderer = std::function<Reply(const RenderInput&)>;
// Called once, on the writer thread, after the batch is durable (or failed): keep it short.
using Completion = std::function<void(Reply)>;

struct IdempotencyTag {
  std::string key;        // the Idempotency-Key header (1..255 bytes)
  Digest request_hash{};  // over method, path and body
};

struct Submission {
  Command command;  // `now` is stamped by the writer
  std::optional<IdempotencyTag> idempotency;
  Renderer render;
  Completion done;
};

enum class SubmitResult { queued, busy, stopped, read_only };

// Counters for /metrics. Written by the writer, read by anyone.
struct EngineStats {
  std::atomic<uint64_t> commands_total{0};
  std::atomic<uint64_t> commands_rejected_total{0};
  std::atomic<uint64_t> events_total{0};
  std::atomic<uint64_t> batches_total{0};
  std::atomic<uint64_t> idempotent_replays_total{0};
  std::atomic<uint64_t> timers_fired_total{0};
  std::atomic<uint64_t> storage_failures_total{0};
  // The last durable write failed (a full disk, a failed sync): commands get 503 until one works.
  std::atomic<bool> writes_failing{false};
  std::atomic<uint64_t> checkpoints_total{0};
  std::atomic<uint64_t> queue_depth{0};
  std::atomic<uint64_t> timers_pending{0};
  std::atomic<uint64_t> last_position{0};
  std::atomic<uint64_t> checkpoint_position{0};
  // The last scheduled checkpoint: how long the writer paused to dump the state, and how long
  // hashing and writing it took beside the writer.
  std::atomic<int64_t> checkpoint_snapshot_ms{0};
  std::atomic<int64_t> checkpoint_write_ms{0};
  // Batch sizes in commands: bucket i counts batches of at most 2^i commands.
  static constexpr size_t batch_size_buckets = 13;
  std::atomic<uint64_t> batch_size_counts[batch_size_buckets] = {};
  // How long each durable write took (LogStore::append: the WriteBatch and its fsync), failed
  // ones included, so that a slow disk shows apart from slow commands. Bucket i counts writes of
  // at most batch_write_bounds_micros[i] (not cumulative); the last bucket counts the slower ones.
  static constexpr std::array<uint64_t, 14> batch_write_bounds_micros = {
      100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 5'000'000};
  std::atomic<uint64_t> batch_write_counts[batch_write_bounds_micros.size() + 1] = {};
  std::atomic<uint64_t> batch_write_micros_sum{0};
  void observe_batch_write_micros(uint64_t micros);
};

// What start-up did, for logs and the recovery benchmark.
struct RecoveryReport {
  bool checkpoint_used = false;
  std::string checkpoint_discarded;  // why a checkpoint was not used, empty if none or used
  // After a discard, start-up writes a checkpoint of the restored state at once, so the next
  // start (and `replay rebuild`) does not meet the unusable one again: empty when written.
  std::string checkpoint_rewrite_failed;
  uint64_t checkpoint_position = 0;
  uint64_t events_replayed = 0;
  uint64_t timers_scheduled = 0;
  int64_t elapsed_ms = 0;  // restoring the state (the phases below but the first and the last)
  // Where start-up time goes, in ms: opening RocksDB (its WAL replay), reading the checkpoint,
  // decoding it, hashing its dump (the state hash check), replaying the tail, checking the
  // invariants, scheduling the timers.
  int64_t log_open_ms = 0;
  int64_t checkpoint_read_ms = 0;
  int64_t checkpoint_decode_ms = 0;
  int64_t checkpoint_hash_ms = 0;
  int64_t tail_ms = 0;
  int64_t invariants_ms = 0;
  int64_t timers_ms = 0;
};

class Engine {
 public:
  // Opens the log, restores the projections (checkpoint + tail, or a rebuild), rebuilds the
  // timers, and starts the writer. A damaged event stops start-up with a Status naming its
  // position. `clock` decides the mode: a ManualClock is the contract's test clock.
  static Status open(const EngineOptions& options, std::unique_ptr<Clock> clock, std::unique_ptr<Engine>* out);
  ~Engine();  // stop() if still running
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  SubmitResult submit(Submission submission);

  // Test clock only: moves the manual clock to `to`, firing every timer due by then in due order
  // (each at its own due time) before `done` runs. A time in the past is invalid_argument; a
  // failed write stops the advance early with io_error (the clock stays at the last due time).
  SubmitResult advance_clock(TimeMs to, std::function<void(Status, TimeMs)> done);
  // Where a request moves the test clock: to an instant, or forward by a span from wherever the
  // writer finds the clock when it takes the request. Two concurrent "advance by 7 s" requests
  // then add up to 14 s, instead of both reading the same now() and landing on the same second.
  struct ClockMove {
    TimeMs amount = 0;
    bool relative = false;
    static ClockMove to(TimeMs at) { return {at, false}; }
    static ClockMove by(TimeMs span_ms) { return {span_ms, true}; }
  };
  // The same for a request (the contract's POST /api/test/clock): `render` turns the outcome into
  // the answer. With an Idempotency-Key the answer is stored like a command's (2xx and 409), so
  // a retry gets it again instead of moving the clock twice.
  SubmitResult advance_clock(ClockMove move, const Actor& actor, std::optional<IdempotencyTag> idempotency,
                             std::function<Reply(Status, TimeMs)> render, Completion done);

  // Read replicas only: appends the primary's records (stored values, in position order, starting
  // right after this log's head) after verifying their hash chain, and applies them. `done` gets
  // ok, or corruption naming the first bad position (nothing of the batch is written then).
  SubmitResult replicate(std::vector<std::string> stored_values, std::function<void(Status)> done);

  // Runs `read` with the durable state under a shared lock (hold it briefly: it blocks the
  // writer's apply step, not its decide or fsync).
  template <class Read>
  decltype(auto) read(Read&& read) const {
    std::shared_lock lock(state_mutex_);
    return read(static_cast<const State&>(*state_));
  }

  TimeMs now() const;
  bool test_clock() const;
  const Policy& policy() const;
  const LogStore& log() const;
  const EngineStats& stats() const;
  const RecoveryReport& recovery() const;

  // Graceful stop: refuses new work, drains the queue, writes a checkpoint, closes the log.
  void stop();

  // Writes a checkpoint now, on the writer thread; `done` gets the result.
  SubmitResult checkpoint(std::function<void(Status)> done);

 private:
  Engine();
  struct Writer;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<State> state_;
  mutable std::shared_mutex state_mutex_;
};

// Error replies the engine itself gives (API.md error shape).
Reply error_reply(int status, std::string_view code, std::string_view message);

}  // namespace tl
