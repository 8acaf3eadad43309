#include "engine/engine.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "engine/conflict_key_set.h"
#include "engine/event_codec.h"
#include "projections/json_text.h"
#include "engine/recovery.h"
#include "engine/timer_schedule.h"
#include "projections/time.h"
#include "projections/evolve.h"
#include "projections/invariants.h"
#include "engine/thread_name.h"

namespace tl {
namespace {

struct ClockAdvance {
  TimeMs to = 0;
  bool relative = false;  // `to` is a span to add to the clock when the writer takes the advance
  std::function<void(Status, TimeMs)> done;
  // A request with an Idempotency-Key (the test clock's POST): its answer is rendered and stored.
  std::optional<IdempotencyTag> idempotency;
  std::string actor;
  std::function<Reply(Status, TimeMs)> render;
  Completion answer;
};
struct CheckpointRequest {
  std::function<void(Status)> done;
};
struct ReplicateBatch {
  std::vector<std::string> stored_values;
  std::function<void(Status)> done;
};
using QueueItem = std::variant<Submission, ClockAdvance, CheckpointRequest, ReplicateBatch>;

// The outcome of one submission within a batch.
struct Outcome {
  Reply reply;
  Decision decision;
  size_t first_record = 0;  // index into the append result's records
};

std::chrono::system_clock::time_point system_time(TimeMs at) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(at));
}

Reply default_render(const RenderInput& input) {
  if (input.decision.rejected()) {
    return error_reply(rejection_http_status(input.decision.rejection), rejection_code(input.decision.rejection),
                       input.decision.message);
  }
  return Reply{200, "{}", false};
}

bool stored_status(int status) { return (status >= 200 && status < 300) || status == 409; }

size_t batch_size_bucket(size_t commands) {
  size_t bucket = 0;
  while ((size_t{1} << bucket) < commands && bucket + 1 < EngineStats::batch_size_buckets) ++bucket;
  return bucket;
}

}  // namespace

void EngineStats::observe_batch_write_micros(uint64_t micros) {
  size_t bucket = 0;
  while (bucket < batch_write_bounds_micros.size() && micros > batch_write_bounds_micros[bucket]) ++bucket;
  batch_write_counts[bucket].fetch_add(1, std::memory_order_relaxed);
  batch_write_micros_sum.fetch_add(micros, std::memory_order_relaxed);
}

Reply error_reply(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":{\"code\":";
  json::append_string(body, code);
  body += ",\"message\":";
  json::append_string(body, message);
  body += "}}";
  return Reply{status, std::move(body), false};
}

struct Engine::Writer {
  Writer(Engine& owner, const EngineOptions& engine_options, std::unique_ptr<Clock> engine_clock)
      : engine(owner), options(engine_options), clock(std::move(engine_clock)) {}

  Engine& engine;
  const EngineOptions options;
  std::unique_ptr<Clock> clock;
  std::unique_ptr<LogStore> log;
  std::unique_ptr<TimerSchedule> timers;
  EngineStats stats;
  RecoveryReport recovery;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<QueueItem> queue;  // guarded by queue_mutex
  bool stopping = false;        // guarded by queue_mutex
  std::thread thread;

  // Writer thread only.
  std::deque<QueueItem> pending;       // taken off the queue, not yet decided
  std::deque<Submission> due_timers;   // timer commands waiting for a batch
  // take_batch's keys: each command's conflict keys and its idempotency key.
  ConflictKeySet batch_keys{options.batch_commands_max * (ConflictKeys::keys_max + 1)};
  uint64_t events_since_checkpoint = 0;
  std::chrono::steady_clock::time_point last_checkpoint = std::chrono::steady_clock::now();
  // The scheduled checkpoint being hashed and written on a thread of its own (at most one), while
  // the writer goes on: writing it on the writer stalled every command for seconds at 10M events.
  // Declared after `log` and `stats`, which it uses: its destructor waits for it first.
  std::future<void> checkpoint_writing;
  std::atomic<TimeMs> last_now{0};  // the writer's latest `now`; read by Engine::now()
  // pending.size() as of the writer's last look, for the queue-depth gauge: submitters must not
  // read the writer's deque itself.
  std::atomic<size_t> pending_depth{0};

  State& state() { return *engine.state_; }

  TimeMs stamp_now() {
    const TimeMs now = std::max({clock->now(), state().last_event_at, last_now.load(std::memory_order_relaxed)});
    last_now.store(now, std::memory_order_relaxed);
    return now;
  }

  // ---- the loop -----------------------------------------------------------------------------

  void run() {
    for (;;) {
      bool stop_now = false;
      {
        std::unique_lock lock(queue_mutex);
        for (;;) {
          if (!queue.empty() || !pending.empty()) break;
          // Due timers do not hold up a stop (they are derived again at the next start): while
          // the storage fails they would be retried for ever.
          if (stopping) {
            stop_now = true;
            break;
          }
          if (!due_timers.empty()) break;
          // Timers already due (overdue ones after a restart too) need no wait. A wheel timer's
          // "due" is the start of its second until pop_due moves it to its exact instant, so this
          // wakes at most once early per second, never spins.
          const auto next_due = timers->next_due();
          if (next_due && *next_due <= clock->now()) break;
          // The interval checkpoint falls due while idle too: a server gone quiet writes it then,
          // not at its next write (a crash meanwhile would replay those events at start-up).
          const std::optional<int64_t> checkpoint_in_ms = idle_checkpoint_in_ms();
          if (checkpoint_in_ms && *checkpoint_in_ms <= 0) break;
          std::optional<std::chrono::system_clock::time_point> wake;
          if (!clock->is_manual() && next_due) wake = system_time(*next_due);  // a manual clock moves only through advance_clock
          if (checkpoint_in_ms) {
            const auto checkpoint_at = std::chrono::system_clock::now() + std::chrono::milliseconds(*checkpoint_in_ms);
            wake = wake ? std::min(*wake, checkpoint_at) : checkpoint_at;
          }
          if (wake) {
            queue_cv.wait_until(lock, *wake);
          } else {
            queue_cv.wait(lock);
          }
        }
        while (!queue.empty()) {
          pending.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        pending_depth.store(pending.size(), std::memory_order_relaxed);
        stats.queue_depth.store(pending.size(), std::memory_order_relaxed);
      }
      if (stop_now) break;
      turn();
      maybe_checkpoint();  // after the batch's, this one is for a wake-up with nothing to decide
      // The gauge counts what still waits: the turn took commands from `pending`.
      pending_depth.store(pending.size(), std::memory_order_relaxed);
      {
        std::lock_guard lock(queue_mutex);
        stats.queue_depth.store(queue.size() + pending.size(), std::memory_order_relaxed);
      }
    }
    wait_for_checkpoint_writing();
    if (!options.checkpoint_on_stop) return;
    const Status status = write_checkpoint();
    if (!status.is_ok()) std::fprintf(stderr, "tutorledger: final checkpoint failed: %s\n", status.to_string().c_str());
  }

  // One turn: a control item on its own, or one batch of due timers and commands.
  void turn() {
    if (due_timers.empty() && !pending.empty() && !std::holds_alternative<Submission>(pending.front())) {
      QueueItem item = std::move(pending.front());
      pending.pop_front();
      if (auto* advance = std::get_if<ClockAdvance>(&item)) {
        if (advance->idempotency) {
          advance_clock_once(*advance);
        } else {
          advance_clock(*advance);
        }
      } else if (auto* request = std::get_if<CheckpointRequest>(&item)) {
        request->done(write_checkpoint());
      } else if (auto* replicated = std::get_if<ReplicateBatch>(&item)) {
        replicated->done(apply_replicated(replicated->stored_values));
      }
      return;
    }
    const TimeMs now = stamp_now();
    collect_due_timers(now);
    std::vector<Submission> batch = take_batch(/*include_pending=*/true);
    if (!batch.empty()) process_batch(batch, now);
  }

  // A replica's batch: verified and written by the log, then evolved like the writer's own.
  Status apply_replicated(const std::vector<std::string>& stored_values) {
    assert(options.replica);
    AppendResult appended = log->append_replicated(stored_values);
    if (!appended.status.is_ok()) {
      stats.writes_failing.store(true, std::memory_order_relaxed);
      return appended.status;
    }
    {
      std::unique_lock lock(engine.state_mutex_);
      Event event;
      for (const EventRecord& record : appended.records) {
        if (Status decoded = decode_event(record, &event); !decoded.is_ok()) return decoded;
        if (std::string problem = evolve(state(), event); !problem.empty()) {
          // Written but not applicable: the primary's log is damaged in a way its hashes hide.
          std::fprintf(stderr, "tutorledger: fatal: replicated position %llu: %s\n",
                       static_cast<unsigned long long>(record.position), problem.c_str());
          std::abort();
        }
      }
    }
    stats.events_total.fetch_add(appended.records.size(), std::memory_order_relaxed);
    stats.batches_total.fetch_add(1, std::memory_order_relaxed);
    stats.writes_failing.store(false, std::memory_order_relaxed);
    stats.last_position.store(state().position, std::memory_order_relaxed);
    events_since_checkpoint += appended.records.size();
    maybe_checkpoint();
    return Status::ok();
  }

  void collect_due_timers(TimeMs now) {
    if (options.replica) return;  // the primary fires the timers; a replica only follows
    while (due_timers.size() < options.batch_commands_max) {
      const auto due = timers->pop_due(now);
      if (!due) break;
      const Booking& booking = state().bookings[due->booking];
      Submission timer;
      timer.command.actor = system_actor();
      timer.command.command_id = fmt::format("timer:{}:{}:{}", timer_kind_name(due->kind), booking.id, due->due);
      timer.command.body = TimerFired{due->kind, booking.id};
      due_timers.push_back(std::move(timer));
    }
    stats.timers_pending.store(timers->size() + due_timers.size(), std::memory_order_relaxed);
  }

  // Takes the next batch, in order: due timers first, then queued submissions; stops at the first
  // command that shares a conflict key with one already taken (see conflict_keys in decide.h), at
  // a control item, or at batch_commands_max.
  std::vector<Submission> take_batch(bool include_pending) {
    std::vector<Submission> batch;
    batch.reserve(std::min(options.batch_commands_max, due_timers.size() + (include_pending ? pending.size() : 0)));
    ConflictKeySet& keys = batch_keys;
    keys.clear();
    auto admit = [&](const Submission& candidate) {
      ConflictKeys candidate_keys = conflict_keys(state(), candidate.command);
      uint64_t idempotency_key = 0;
      if (candidate.idempotency) {
        // Two retries of one request in a batch would both miss the stored answer.
        idempotency_key = std::hash<std::string>{}(actor_text(candidate.command.actor) + '\0' + candidate.idempotency->key);
        if (keys.contains(idempotency_key)) return false;
      }
      for (size_t i = 0; i < candidate_keys.count; ++i) {
        if (keys.contains(candidate_keys.keys[i])) return false;
      }
      for (size_t i = 0; i < candidate_keys.count; ++i) keys.insert(candidate_keys.keys[i]);
      if (candidate.idempotency) keys.insert(idempotency_key);
      return true;
    };
    while (!due_timers.empty() && batch.size() < options.batch_commands_max) {
      if (!admit(due_timers.front())) return batch;
      batch.push_back(std::move(due_timers.front()));
      due_timers.pop_front();
    }
    if (!due_timers.empty() || !include_pending) return batch;
    while (!pending.empty() && batch.size() < options.batch_commands_max) {
      auto* submission = std::get_if<Submission>(&pending.front());
      if (submission == nullptr || !admit(*submission)) break;
      batch.push_back(std::move(*submission));
      pending.pop_front();
    }
    return batch;
  }

  // ---- one group commit ---------------------------------------------------------------------

  // The answer to a decided command, by its route's renderer or the default one.
  Reply render(const Submission& submission, const Decision& decision) {
    const RenderInput input{state(), submission.command, decision, options.policy};
    return submission.render ? submission.render(input) : default_render(input);
  }

  // A key reused with a different request. The contract ranks 400, 404 and 403 (a request
  // refused before deciding) above 409, so the request is decided (and the decision dropped):
  // such a refusal is its answer, anything else is the conflict.
  Reply conflict_or_refusal(const Submission& submission) {
    Reply reply = render(submission, decide(state(), submission.command, options.policy));
    if (!stored_status(reply.status)) return reply;
    return error_reply(409, "idempotency_conflict", "this Idempotency-Key was used with a different request");
  }

  // Stored answers decided a keep time before `now` or earlier are no longer found (and
  // compactions drop them): a retry after that is a new request.
  void expire_idempotency_records(TimeMs now) {
    assert(options.idempotency_keep_seconds > 0);
    const TimeMs keep_ms = options.idempotency_keep_seconds * ms_per_second;
    if (now > std::numeric_limits<TimeMs>::min() + keep_ms) log->expire_idempotency_through(now - keep_ms);
  }

  // Returns false when the write failed (every command of the batch was answered 503).
  bool process_batch(std::vector<Submission>& batch, TimeMs now) {
    assert(!batch.empty() && batch.size() <= options.batch_commands_max);
    std::vector<Outcome> outcomes(batch.size());
    AppendBatch append;
    size_t records_planned = 0;
    uint64_t next_position = log->head().position + 1;

    expire_idempotency_records(now);
    for (size_t i = 0; i < batch.size(); ++i) {
      Submission& submission = batch[i];
      Outcome& outcome = outcomes[i];
      submission.command.now = now;
      const std::string actor = actor_text(submission.command.actor);
      if (submission.idempotency) {
        if (auto stored = log->find_idempotency(actor, submission.idempotency->key)) {
          if (stored->request_hash == submission.idempotency->request_hash) {
            outcome.reply = Reply{stored->status, std::move(stored->body), true};
            stats.idempotent_replays_total.fetch_add(1, std::memory_order_relaxed);
          } else {
            outcome.reply = conflict_or_refusal(submission);
          }
          continue;
        }
      }
      outcome.decision = decide(state(), submission.command, options.policy);
      outcome.reply = render(submission, outcome.decision);
      if (outcome.decision.rejected()) stats.commands_rejected_total.fetch_add(1, std::memory_order_relaxed);
      if (!outcome.decision.events.empty()) {
        StreamAppend stream;
        stream.stream = outcome.decision.stream;
        stream.expected = outcome.decision.expected_version == 0 ? ExpectedVersion::no_stream()
                                                                 : ExpectedVersion::exact(outcome.decision.expected_version);
        for (const auto& data : outcome.decision.events) {
          stream.events.push_back(make_new_event(data, submission.command.actor, now, submission.command.command_id));
        }
        outcome.first_record = records_planned;
        records_planned += stream.events.size();
        next_position += stream.events.size();
        append.streams.push_back(std::move(stream));
      }
      if (submission.idempotency && stored_status(outcome.reply.status)) {
        append.idempotency.push_back(IdempotencyRecord{actor, submission.idempotency->key,
                                                       submission.idempotency->request_hash, outcome.reply.status,
                                                       outcome.reply.body, next_position - 1, now});
      }
    }

    AppendResult appended;
    if (!append.streams.empty() || !append.idempotency.empty()) {
      const auto write_started = std::chrono::steady_clock::now();
      appended = log->append(append);
      const auto write_took = std::chrono::steady_clock::now() - write_started;
      stats.observe_batch_write_micros(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(write_took).count()));
      if (!appended.status.is_ok()) {
        fail_batch(batch, outcomes, appended.status);
        return false;
      }
      assert(appended.records.size() == records_planned);
    }
    apply(batch, outcomes, appended.records);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(outcomes[i].reply));
    }
    return true;
  }

  void apply(std::vector<Submission>& batch, std::vector<Outcome>& outcomes, std::vector<EventRecord>& records) {
    std::vector<uint32_t> touched_bookings;
    {
      std::unique_lock lock(engine.state_mutex_);
      Event event;
      for (auto& outcome : outcomes) {
        for (size_t j = 0; j < outcome.decision.events.size(); ++j) {
          EventRecord& record = records[outcome.first_record + j];
          event.position = record.position;
          event.stream = std::move(record.stream);
          event.version = record.version;
          event.at = record.at;
          event.actor = *parse_actor(record.actor);
          event.command_id = std::move(record.command_id);
          event.data = std::move(outcome.decision.events[j]);
          const std::string problem = evolve(state(), event);
          if (!problem.empty()) {
            // The log now holds an event the projections cannot apply: a bug in decide. Refuse
            // to go on with a state that no longer matches the log.
            std::fprintf(stderr, "tutorledger: fatal: position %llu: %s\n",
                         static_cast<unsigned long long>(record.position), problem.c_str());
            std::abort();
          }
        }
        if (outcome.decision.events.empty()) continue;
        // All events of a command share its stream: the last one names the booking, if any.
        if (const Booking* booking = state().find_booking(booking_id_of(event.data))) {
          touched_bookings.push_back(state().index_of(*booking));
        }
      }
    }
    for (uint32_t index : touched_bookings) {
      const Booking& booking = state().bookings[index];
      assert(check_booking_invariants(state(), booking).empty());
      if (!timers->set(index, pending_timer(booking, options.policy))) {
        std::fprintf(stderr, "tutorledger: fatal: the timing wheel is full (%u timers)\n", options.timers_max);
        std::abort();
      }
    }
    uint64_t commands = 0;
    uint64_t timers_fired = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      ++commands;
      if (std::holds_alternative<TimerFired>(batch[i].command.body)) {
        ++timers_fired;
        // A due timer always finds something to do (decide re-derives the same timer).
        assert(!outcomes[i].decision.events.empty());
      }
    }
    stats.commands_total.fetch_add(commands, std::memory_order_relaxed);
    stats.timers_fired_total.fetch_add(timers_fired, std::memory_order_relaxed);
    stats.events_total.fetch_add(records.size(), std::memory_order_relaxed);
    stats.batches_total.fetch_add(1, std::memory_order_relaxed);
    stats.writes_failing.store(false, std::memory_order_relaxed);
    stats.batch_size_counts[batch_size_bucket(batch.size())].fetch_add(1, std::memory_order_relaxed);
    stats.last_position.store(state().position, std::memory_order_relaxed);
    stats.timers_pending.store(timers->size() + due_timers.size(), std::memory_order_relaxed);
    events_since_checkpoint += records.size();
    maybe_checkpoint();
  }

  // The write failed: nothing was appended and the state is untouched. Every command of the batch
  // is answered 503; timers go back into the schedule to fire again.
  void fail_batch(std::vector<Submission>& batch, std::vector<Outcome>& outcomes, const Status& status) {
    stats.storage_failures_total.fetch_add(1, std::memory_order_relaxed);
    stats.writes_failing.store(true, std::memory_order_relaxed);
    std::fprintf(stderr, "tutorledger: write failed, batch of %zu refused: %s\n", batch.size(), status.to_string().c_str());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (const auto* timer = std::get_if<TimerFired>(&batch[i].command.body)) {
        if (const Booking* booking = state().find_booking(timer->booking_id)) {
          (void)timers->set(state().index_of(*booking), pending_timer(*booking, options.policy));
        }
      }
      outcomes[i].reply = error_reply(503, "storage_unavailable", "the ledger could not write; retry later");
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(std::move(outcomes[i].reply));
    }
    // Submissions already taken off the queue are answered now too. Due timers go first in every
    // batch, so a submission that conflicts with a timer whose write keeps failing would
    // otherwise wait, and hold up everything behind it, for as long as the storage is down.
    for (auto item = pending.begin(); item != pending.end();) {
      auto* submission = std::get_if<Submission>(&*item);
      if (submission == nullptr) {
        ++item;
        continue;
      }
      if (submission->done) {
        submission->done(error_reply(503, "storage_unavailable", "the ledger could not write; retry later"));
      }
      item = pending.erase(item);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options.storage_retry_ms));
  }

  // ---- test clock, checkpoints --------------------------------------------------------------

  // A clock advance that carries an Idempotency-Key: the stored answer if there is one, else the
  // advance, whose answer is stored like a command's.
  void advance_clock_once(ClockAdvance& advance) {
    assert(advance.idempotency && advance.render && advance.answer);
    expire_idempotency_records(stamp_now());
    if (auto stored = log->find_idempotency(advance.actor, advance.idempotency->key)) {
      stats.idempotent_replays_total.fetch_add(1, std::memory_order_relaxed);
      advance.answer(stored->request_hash == advance.idempotency->request_hash
                         ? Reply{stored->status, std::move(stored->body), true}
                         : error_reply(409, "idempotency_conflict", "this Idempotency-Key was used with a different request"));
      return;
    }
    Reply reply;
    TimeMs answered_at = 0;
    advance.done = [&](Status status, TimeMs now) {
      reply = advance.render(status, now);
      answered_at = now;
    };
    advance_clock(advance);
    if (stored_status(reply.status)) {
      AppendBatch append;
      append.idempotency.push_back(IdempotencyRecord{advance.actor, advance.idempotency->key,
                                                     advance.idempotency->request_hash, reply.status, reply.body,
                                                     log->head().position, answered_at});
      if (const AppendResult stored = log->append(append); !stored.status.is_ok()) {
        // The clock has moved; only a retry's protection is lost, and this is a test clock.
        std::fprintf(stderr, "tutorledger: the test clock's answer was not stored: %s\n", stored.status.to_string().c_str());
      }
    }
    advance.answer(std::move(reply));
  }

  void advance_clock(ClockAdvance& advance) {
    auto* manual = static_cast<ManualClock*>(clock.get());
    assert(clock->is_manual());
    if (advance.relative) {
      assert(advance.to >= 0 && advance.to <= time_ms_max);
      advance.to = std::min(stamp_now() + advance.to, time_ms_max + 1);  // past the limit: refused below
      advance.relative = false;
    }
    if (advance.to < stamp_now()) {
      advance.done(Status::invalid_argument("time never moves backwards"), last_now.load());
      return;
    }
    if (advance.to > time_ms_max) {  // every time the ledger shows is RFC 3339: four-digit years
      advance.done(Status::invalid_argument("time cannot pass 9999-12-31T23:59:59Z"), last_now.load());
      return;
    }
    // Step from due time to due time: each timer fires at its own instant, in due order.
    for (;;) {
      const auto next_due = timers->next_due();
      if (!next_due || *next_due > advance.to) break;
      manual->set(*next_due);
      for (;;) {
        const TimeMs now = stamp_now();
        collect_due_timers(now);
        std::vector<Submission> batch = take_batch(/*include_pending=*/false);
        if (batch.empty()) break;
        // A failed write puts its timers back as due: retrying here would spin for as long as
        // the storage is down and hold up stop(). The clock stays where the due timers got it.
        if (!process_batch(batch, now)) {
          advance.done(Status::io_error("the ledger could not write the timers due; the clock stopped early"),
                       stamp_now());
          return;
        }
      }
    }
    manual->set(advance.to);
    advance.done(Status::ok(), stamp_now());
  }

  // The scheduled checkpoint: the writer only dumps the state (the snapshot); hashing the dump and
  // writing it to RocksDB run on another thread. While one is being written, the next waits.
  void maybe_checkpoint() {
    // Compared in milliseconds: converting a large interval to the clock's nanoseconds would
    // overflow and make every batch write a checkpoint.
    const int64_t elapsed_ms = milliseconds_since(last_checkpoint);
    if (events_since_checkpoint < options.checkpoint_events_max &&
        (events_since_checkpoint == 0 || elapsed_ms < options.checkpoint_interval_ms)) {
      return;
    }
    if (checkpoint_in_flight()) return;
    wait_for_checkpoint_writing();  // finished: collects it
    last_checkpoint = std::chrono::steady_clock::now();
    const LogHead head = log->head();
    assert(head.position == state().position);
    Checkpoint snapshot = snapshot_checkpoint(state(), head.hash);
    stats.checkpoint_snapshot_ms.store(milliseconds_since(last_checkpoint), std::memory_order_relaxed);
    // Counted from the snapshot: a failed write is retried after another interval, not at every batch.
    events_since_checkpoint = 0;
    checkpoint_writing = std::async(std::launch::async, [this, checkpoint = std::move(snapshot)]() mutable {
      name_this_thread("tl-checkpoint");
      if (options.before_checkpoint_write) options.before_checkpoint_write();
      const Status status = seal_and_write(&checkpoint);
      if (!status.is_ok()) std::fprintf(stderr, "tutorledger: checkpoint failed: %s\n", status.to_string().c_str());
    });
  }

  // Milliseconds until the interval checkpoint is due (0 or less: now), or nullopt when no event
  // awaits one. While the last one is still being written, look again a second later.
  std::optional<int64_t> idle_checkpoint_in_ms() {
    constexpr int64_t in_flight_poll_ms = 1000;
    constexpr int64_t idle_wait_ms_max = 24 * 3600 * 1000;  // an interval far ahead: wake once a day
    if (events_since_checkpoint == 0) return std::nullopt;
    if (checkpoint_in_flight()) return in_flight_poll_ms;
    // In milliseconds, subtracted: an interval too large for the clock's nanoseconds cannot overflow.
    return std::min(options.checkpoint_interval_ms - milliseconds_since(last_checkpoint), idle_wait_ms_max);
  }

  bool checkpoint_in_flight() const {
    return checkpoint_writing.valid() && checkpoint_writing.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
  }

  void wait_for_checkpoint_writing() {
    if (checkpoint_writing.valid()) checkpoint_writing.get();
  }

  // Any thread: `checkpoint` reflects a position the log already holds.
  Status seal_and_write(Checkpoint* checkpoint) {
    const auto start = std::chrono::steady_clock::now();
    seal_checkpoint(checkpoint);
    Status status = log->write_checkpoint(*checkpoint);
    stats.checkpoint_write_ms.store(milliseconds_since(start), std::memory_order_relaxed);
    if (status.is_ok()) {
      stats.checkpoint_position.store(checkpoint->position, std::memory_order_relaxed);
      stats.checkpoints_total.fetch_add(1, std::memory_order_relaxed);
    }
    return status;
  }

  // A checkpoint written before this returns (asked for, at a stop, after a discard at start-up),
  // on the writer thread, after the one being written in the background if any.
  Status write_checkpoint() {
    wait_for_checkpoint_writing();
    last_checkpoint = std::chrono::steady_clock::now();
    if (state().position == stats.checkpoint_position.load(std::memory_order_relaxed) && stats.checkpoints_total > 0) {
      return Status::ok();
    }
    const LogHead head = log->head();
    assert(head.position == state().position);
    Checkpoint checkpoint = snapshot_checkpoint(state(), head.hash);
    Status status = seal_and_write(&checkpoint);
    if (status.is_ok()) events_since_checkpoint = 0;
    return status;
  }

  template <class Item>
  SubmitResult enqueue(Item item) {
    {
      std::lock_guard lock(queue_mutex);
      if (stopping) return SubmitResult::stopped;
      if (queue.size() >= options.queue_commands_max) return SubmitResult::busy;
      queue.push_back(std::move(item));
      stats.queue_depth.store(queue.size() + pending_depth.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    queue_cv.notify_one();
    return SubmitResult::queued;
  }
};

Engine::Engine() : state_(std::make_unique<State>()) {}

Engine::~Engine() { stop(); }

Status Engine::open(const EngineOptions& options, std::unique_ptr<Clock> clock, std::unique_ptr<Engine>* out) {
  assert(clock != nullptr && options.batch_commands_max > 0 && options.queue_commands_max > 0);
  std::unique_ptr<Engine> engine(new Engine());
  engine->writer_ = std::make_unique<Writer>(*engine, options, std::move(clock));
  Writer& writer = *engine->writer_;
  auto phase_start = std::chrono::steady_clock::now();
  Status status = LogStore::open(options.data_dir, options.log, &writer.log);
  if (!status.is_ok()) return status;
  const int64_t log_open_ms = milliseconds_since(phase_start);
  status = restore_state(*writer.log, /*use_checkpoint=*/true, engine->state_.get(), &writer.recovery);
  if (!status.is_ok()) return status;
  if (writer.clock->is_manual()) {
    // The test clock starts at the real time, or at the last event if that is later.
    static_cast<ManualClock*>(writer.clock.get())->set(engine->state_->last_event_at);
  }
  writer.recovery.log_open_ms = log_open_ms;
  phase_start = std::chrono::steady_clock::now();
  const TimeMs now = writer.stamp_now();
  writer.timers = std::make_unique<TimerSchedule>(now, options.timers_max);
  for (uint32_t i = 0; i < engine->state_->bookings.size() && !options.replica; ++i) {
    const auto timer = pending_timer(engine->state_->bookings[i], options.policy);
    if (!writer.timers->set(i, timer)) return Status::invalid_argument("more pending timers than timers_max");
    if (timer) ++writer.recovery.timers_scheduled;
  }
  writer.recovery.timers_ms = milliseconds_since(phase_start);
  writer.stats.last_position = engine->state_->position;
  writer.stats.checkpoint_position = writer.recovery.checkpoint_position;
  writer.stats.timers_pending = writer.timers->size();
  if (!writer.recovery.checkpoint_discarded.empty() && engine->state_->position > 0) {
    // Without this, every start until the next scheduled checkpoint (up to 1M events or 10
    // minutes away) would rebuild from the whole log again.
    const Status written = writer.write_checkpoint();
    if (!written.is_ok()) writer.recovery.checkpoint_rewrite_failed = written.to_string();
  }
  writer.thread = std::thread([&writer] {
    name_this_thread("tl-writer");
    writer.run();
  });
  *out = std::move(engine);
  return Status::ok();
}

SubmitResult Engine::submit(Submission submission) {
  if (writer_->options.replica) return SubmitResult::read_only;
  return writer_->enqueue(std::move(submission));
}

SubmitResult Engine::replicate(std::vector<std::string> stored_values, std::function<void(Status)> done) {
  if (!writer_->options.replica) return SubmitResult::read_only;
  return writer_->enqueue(ReplicateBatch{std::move(stored_values), std::move(done)});
}

SubmitResult Engine::advance_clock(TimeMs to, std::function<void(Status, TimeMs)> done) {
  if (!writer_->clock->is_manual() || writer_->options.replica) return SubmitResult::read_only;
  return writer_->enqueue(ClockAdvance{to, false, std::move(done), std::nullopt, {}, {}, {}});
}

SubmitResult Engine::advance_clock(ClockMove move, const Actor& actor, std::optional<IdempotencyTag> idempotency,
                                   std::function<Reply(Status, TimeMs)> render, Completion done) {
  if (!writer_->clock->is_manual() || writer_->options.replica) return SubmitResult::read_only;
  if (!idempotency) {
    auto answer = [render = std::move(render), done = std::move(done)](Status status, TimeMs now) {
      done(render(status, now));
    };
    return writer_->enqueue(ClockAdvance{move.amount, move.relative, std::move(answer), std::nullopt, {}, {}, {}});
  }
  return writer_->enqueue(ClockAdvance{move.amount, move.relative, {}, std::move(idempotency), actor_text(actor),
                                       std::move(render), std::move(done)});
}

SubmitResult Engine::checkpoint(std::function<void(Status)> done) {
  return writer_->enqueue(CheckpointRequest{std::move(done)});
}

void Engine::stop() {
  if (!writer_ || !writer_->thread.joinable()) return;
  {
    std::lock_guard lock(writer_->queue_mutex);
    writer_->stopping = true;
  }
  writer_->queue_cv.notify_one();
  writer_->thread.join();
}

TimeMs Engine::now() const { return std::max(writer_->clock->now(), writer_->last_now.load(std::memory_order_relaxed)); }
bool Engine::test_clock() const { return writer_->clock->is_manual(); }
const Policy& Engine::policy() const { return writer_->options.policy; }
const LogStore& Engine::log() const { return *writer_->log; }
const EngineStats& Engine::stats() const { return writer_->stats; }
const RecoveryReport& Engine::recovery() const { return writer_->recovery; }

}  // namespace tl
