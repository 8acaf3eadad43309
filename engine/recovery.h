#pragma once
// Restoring the projections from the log: from a checkpoint plus the tail when the checkpoint is
// sound, else from position 1. Shared by the engine's start-up and the replay CLI.
//
// Checkpoint payload: the log hash at the checkpoint's position (32 bytes), then the state dump
// (projections/state_codec.h). A checkpoint is used only if its dump loads, hashes to the stored
// state hash, reflects the stored position, and the log still has that hash at that position.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/engine.h"
#include "engine/log_store.h"
#include "projections/state.h"

namespace tl {

// A checkpoint is made in two steps so that the writer, which owns the state, pauses only for the
// first: the snapshot dumps the state (the payload, without its state hash), and sealing hashes
// that dump, which needs only the payload and may run on another thread.
Checkpoint snapshot_checkpoint(const State& state, const Digest& log_hash_at_position);
void seal_checkpoint(Checkpoint* checkpoint);
Checkpoint make_checkpoint(const State& state, const Digest& log_hash_at_position);  // both steps

// Whole milliseconds of the steady clock since `start`: the phase timings of a RecoveryReport.
int64_t milliseconds_since(std::chrono::steady_clock::time_point start);

// Why `checkpoint` cannot be used for `log` (empty: it can), and the state it holds. Phase
// timings go to `report` when given.
std::string load_checkpoint(const LogStore& log, const Checkpoint& checkpoint, State* out,
                            RecoveryReport* report = nullptr);

// Applies every event after state->position, in order: decodes, checks the hash links, evolves.
// `progress` (may be empty) is called now and then with the events applied so far.
// Stops at the first damaged event with corruption naming its position.
Status replay_tail(const LogStore& log, State* state, uint64_t* events_replayed,
                   const std::function<void(uint64_t)>& progress = {});

// Checkpoint (if sound and `use_checkpoint`) + tail, or a full rebuild.
Status restore_state(const LogStore& log, bool use_checkpoint, State* out, RecoveryReport* report,
                     const std::function<void(uint64_t)>& progress = {});

}  // namespace tl
