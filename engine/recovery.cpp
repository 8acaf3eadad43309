#include "engine/recovery.h"

#include <cassert>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "engine/event_codec.h"
#include "engine/sha256.h"
#include "engine/state_hash.h"
#include "projections/evolve.h"
#include "projections/invariants.h"
#include "projections/state_codec.h"

namespace tl {

Checkpoint snapshot_checkpoint(const State& state, const Digest& log_hash_at_position) {
  Checkpoint checkpoint;
  checkpoint.position = state.position;
  checkpoint.payload.reserve(log_hash_at_position.size() + 64 * (state.bookings.size() + 1));
  checkpoint.payload.append(reinterpret_cast<const char*>(log_hash_at_position.data()), log_hash_at_position.size());
  write_state(state, [&checkpoint](std::string_view piece) { checkpoint.payload.append(piece); });
  return checkpoint;
}

void seal_checkpoint(Checkpoint* checkpoint) {
  assert(checkpoint != nullptr && checkpoint->payload.size() >= Digest{}.size());
  // The state hash is SHA-256 over the dump (engine/state_hash.h), which the payload holds after
  // the log hash: hashed from those bytes rather than dumping the state a second time.
  checkpoint->state_hash = sha256(std::string_view(checkpoint->payload).substr(Digest{}.size()));
}

Checkpoint make_checkpoint(const State& state, const Digest& log_hash_at_position) {
  Checkpoint checkpoint = snapshot_checkpoint(state, log_hash_at_position);
  seal_checkpoint(&checkpoint);
  assert(checkpoint.state_hash == state_hash(state));
  return checkpoint;
}

int64_t milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

std::string load_checkpoint(const LogStore& log, const Checkpoint& checkpoint, State* out, RecoveryReport* report) {
  Digest log_hash{};
  if (checkpoint.payload.size() < log_hash.size()) return "checkpoint payload is truncated";
  std::memcpy(log_hash.data(), checkpoint.payload.data(), log_hash.size());
  const LogHead head = log.head();
  if (checkpoint.position > head.position) {
    return fmt::format("checkpoint at position {} is ahead of the log head {}", checkpoint.position, head.position);
  }
  if (checkpoint.position > 0) {
    std::vector<EventRecord> records;
    const Status status = log.read_all(checkpoint.position, 1, &records);
    if (!status.is_ok() || records.size() != 1) return "the log has no event at the checkpoint's position";
    if (records[0].hash != log_hash) return fmt::format("the log at position {} is not the one checkpointed", checkpoint.position);
  }
  // The state hash is SHA-256 over the canonical dump, and the dump is what the payload holds: it
  // is hashed straight from those bytes, instead of writing the loaded state out again (a third
  // of start-up at 10M events). That the dump is canonical (it loads into a state that writes back
  // the same bytes) is what state_codec_test and the state-dump fuzz target check; debug builds
  // check it here too.
  const std::string_view dump = std::string_view(checkpoint.payload).substr(log_hash.size());
  auto phase_start = std::chrono::steady_clock::now();
  State state;
  const std::string problem = load_state(dump, &state);
  if (report != nullptr) report->checkpoint_decode_ms = milliseconds_since(phase_start);
  if (!problem.empty()) return problem;
  phase_start = std::chrono::steady_clock::now();
  const bool hash_matches = sha256(dump) == checkpoint.state_hash;
  if (report != nullptr) report->checkpoint_hash_ms = milliseconds_since(phase_start);
  if (state.position != checkpoint.position) return "checkpoint position does not match its state";
  if (!hash_matches) return "checkpoint state hash does not match its state";
  assert(state_hash(state) == checkpoint.state_hash);
  *out = std::move(state);
  return {};
}

Status replay_tail(const LogStore& log, State* state, uint64_t* events_replayed,
                   const std::function<void(uint64_t)>& progress) {
  constexpr uint64_t progress_every_events = 100'000;
  uint64_t applied = 0;
  Status failure;
  Event event;
  const Status scanned = log.scan(state->position + 1, [&](const EventRecord& record) {
    if (record.position != state->position + 1) {
      failure = Status::corruption(fmt::format("position {}: expected position {}", record.position, state->position + 1));
      return false;
    }
    if (Status decoded = decode_event(record, &event); !decoded.is_ok()) {
      failure = decoded;
      return false;
    }
    if (std::string problem = evolve(*state, event); !problem.empty()) {
      failure = Status::corruption(fmt::format("position {}: {}", record.position, problem));
      return false;
    }
    ++applied;
    if (progress && applied % progress_every_events == 0) progress(applied);
    return true;
  });
  *events_replayed = applied;
  if (!failure.is_ok()) return failure;
  return scanned;
}

Status restore_state(const LogStore& log, bool use_checkpoint, State* out, RecoveryReport* report,
                     const std::function<void(uint64_t)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  State state;
  if (use_checkpoint) {
    std::optional<Checkpoint> checkpoint;
    const auto read_start = std::chrono::steady_clock::now();
    const Status read = log.read_checkpoint(&checkpoint);
    report->checkpoint_read_ms = milliseconds_since(read_start);
    if (!read.is_ok()) {
      report->checkpoint_discarded = read.to_string();
    } else if (checkpoint) {
      std::string problem = load_checkpoint(log, *checkpoint, &state, report);
      if (problem.empty()) {
        report->checkpoint_used = true;
        report->checkpoint_position = checkpoint->position;
      } else {
        report->checkpoint_discarded = std::move(problem);
        state = State{};
      }
    }
  }
  const auto tail_start = std::chrono::steady_clock::now();
  Status status = replay_tail(log, &state, &report->events_replayed, progress);
  report->tail_ms = milliseconds_since(tail_start);
  if (!status.is_ok()) return status;
  if (state.position != log.head().position) {
    return Status::corruption(fmt::format("replay stopped at position {} but the log head is {}", state.position,
                                          log.head().position));
  }
  const auto invariants_start = std::chrono::steady_clock::now();
  const std::string violation = check_invariants(state);
  report->invariants_ms = milliseconds_since(invariants_start);
  if (!violation.empty()) return Status::corruption("the projections break an invariant after replay: " + violation);
  report->elapsed_ms = milliseconds_since(started);
  *out = std::move(state);
  return Status::ok();
}

}  // namespace tl
