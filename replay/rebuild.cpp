#include "replay/rebuild.h"

#include <cassert>
#include <chrono>
#include <cstring>
#include <future>

#include <fmt/format.h>

#include "engine/sha256.h"
#include "engine/state_hash.h"
#include "projections/state_codec.h"
#include "replay/data_folder.h"
#include "replay/pipelined_feed.h"
#include "replay/exit_codes.h"

namespace tl::replay {
namespace {

// The checkpoint's payload is the log hash at its position, then the state dump (engine/recovery.h).
std::string_view stored_dump(const Checkpoint& checkpoint) {
  const std::string_view payload = checkpoint.payload;
  return payload.size() < Digest{}.size() ? std::string_view{} : payload.substr(Digest{}.size());
}

// Compares the dump of `rebuilt`, piece by piece, with the checkpoint's. `stored_dump_hash` is the
// hash of the stored dump: while the rebuilt bytes equal it, their hash is that one, so they are
// hashed (from the start) only when they differ.
void compare_with_checkpoint(const State& rebuilt, const Checkpoint& checkpoint, const Digest& stored_dump_hash,
                             const Digest& log_hash, RebuildFindings* findings) {
  findings->verdict = CheckpointVerdict::differs;
  const std::string_view stored = stored_dump(checkpoint);
  Sha256 hasher;
  size_t offset = 0;  // rebuilt bytes so far
  std::optional<size_t> first_different_byte;
  const auto differs_from = [&](size_t byte) {
    first_different_byte = byte;
    hasher.update(stored.substr(0, offset));  // the rebuilt bytes before this piece were these
  };
  write_state(rebuilt, [&](std::string_view piece) {
    if (!first_different_byte) {
      const std::string_view same_place = offset < stored.size() ? stored.substr(offset, piece.size()) : std::string_view{};
      if (same_place == piece) {
        offset += piece.size();
        return;
      }
      size_t same = 0;
      while (same < same_place.size() && same_place[same] == piece[same]) ++same;
      differs_from(offset + same);
    }
    hasher.update(piece);
    offset += piece.size();
  });
  if (!first_different_byte && offset != stored.size()) differs_from(offset);  // the rebuilt dump is shorter
  findings->rebuilt_state_hash = first_different_byte ? hasher.finish() : stored_dump_hash;
  assert(first_different_byte || findings->rebuilt_state_hash == state_hash(rebuilt));
  const std::string_view payload = checkpoint.payload;
  if (findings->rebuilt_state_hash != checkpoint.state_hash) {
    findings->difference = fmt::format("the rebuilt state hash {} is not the checkpoint's {}",
                                       to_hex(findings->rebuilt_state_hash), to_hex(checkpoint.state_hash));
  } else if (payload.size() < log_hash.size() || std::memcmp(payload.data(), log_hash.data(), log_hash.size()) != 0) {
    findings->difference = fmt::format("the checkpoint was taken on another log: its hash at position {} is not this log's",
                                       checkpoint.position);
  } else if (first_different_byte) {
    findings->difference = fmt::format("the checkpoint's state dump differs from the rebuilt one from byte {}",
                                       *first_different_byte);
  } else {
    findings->verdict = CheckpointVerdict::equal;
  }
}

struct CheckpointRead {
  Status status;
  std::optional<Checkpoint> checkpoint;
  Digest stored_dump_hash{};  // of stored_dump(*checkpoint)
};

// The checkpoint as rebuild compares it: nullopt when there is none or it cannot be compared, and
// then `findings` says why.
std::optional<Checkpoint> usable_checkpoint(CheckpointRead read, RebuildFindings* findings) {
  if (!read.status.is_ok()) {
    // Torn, failing its checksum, or not of this log: there is a checkpoint, and it is not right.
    // Anything else (I/O, blob files a secondary cannot read) leaves the question open.
    findings->verdict = read.status.is_corruption() ? CheckpointVerdict::differs : CheckpointVerdict::unreadable;
    findings->difference = read.status.to_string();
    return std::nullopt;
  }
  if (!read.checkpoint) return std::nullopt;
  const Checkpoint& checkpoint = *read.checkpoint;
  findings->checkpoint_read = true;
  findings->checkpoint_position = checkpoint.position;
  findings->checkpoint_state_hash = checkpoint.state_hash;
  const std::string_view payload = checkpoint.payload;
  const std::optional<uint32_t> format =
      payload.size() < Digest{}.size() ? std::nullopt : state_dump_format(payload.substr(Digest{}.size()));
  if (format && *format < state_format_version) {
    findings->verdict = CheckpointVerdict::older_format;
    findings->checkpoint_format = *format;
    return std::nullopt;
  }
  return std::move(read.checkpoint);
}

}  // namespace

RebuildFindings rebuild_log(const LogStore& log, Progress& progress) {
  RebuildFindings findings;
  findings.head = log.head();
  // Reading the checkpoint (its chunks and their SHA-256: 1.5 s of a 13.7 s rebuild at 10M events,
  // on one core) goes on a thread of its own, beside the feed's two, which left part of the
  // second core idle. Its header says where to compare; the payload is waited for only there.
  std::future<CheckpointRead> reading = std::async(std::launch::async, [&log] {
    CheckpointRead read;
    read.status = log.read_checkpoint(&read.checkpoint);
    // Hashed here, while the log is fed, rather than at the end, where the rebuild runs on one core.
    if (read.status.is_ok() && read.checkpoint) read.stored_dump_hash = sha256(stored_dump(*read.checkpoint));
    return read;
  });
  std::optional<uint64_t> compare_at;
  if (!log.read_checkpoint_position(&compare_at).is_ok()) compare_at.reset();  // the full read reports it
  std::optional<Checkpoint> checkpoint;
  Digest stored_dump_hash{};
  bool taken = false;
  const auto take_checkpoint = [&] {
    if (taken) return;
    taken = true;
    CheckpointRead read = reading.get();
    stored_dump_hash = read.stored_dump_hash;
    checkpoint = usable_checkpoint(std::move(read), &findings);
    // A secondary's view of the folder is fixed (it never catches up), so the header read first
    // and the one read with the payload agree. A live primary may have replaced the checkpoint
    // between the two reads, and the one compared must be the one whose position was waited for.
    if (checkpoint && compare_at && checkpoint->position != *compare_at) {
      findings.verdict = CheckpointVerdict::unreadable;
      findings.difference = fmt::format("the checkpoint at position {} was replaced by one at {} while it was read",
                                        *compare_at, checkpoint->position);
      checkpoint.reset();
    }
    compare_at = checkpoint ? std::optional<uint64_t>(checkpoint->position) : std::nullopt;
  };
  // Nothing to overlap when there is no header to go by.
  if (!compare_at) take_checkpoint();

  StateReplay replay(/*watch_invariants=*/false);
  if (compare_at == 0) {
    take_checkpoint();
    if (checkpoint) compare_with_checkpoint(replay.state(), *checkpoint, stored_dump_hash, Digest{}, &findings);
  }
  FeedLimits limits;
  limits.position_max = findings.head.position;
  // A checkpoint at the head (the usual case: the server writes one when it stops) is compared
  // after the feed, beside the final invariant check, when the reading thread has finished.
  bool compare_after_feed = false;
  Digest log_hash_at_head{};
  // Reading, hashing and decoding on one thread, evolving on this one.
  const FeedResult fed = feed_events_pipelined(log, limits, progress, [&](const Event& event, const Digest& hash) {
    findings.damage = replay.apply(event);
    if (findings.damage.found()) return false;
    if (compare_at && event.position == *compare_at) {
      if (event.position == limits.position_max) {
        compare_after_feed = true;
        log_hash_at_head = hash;
        return true;
      }
      take_checkpoint();
      if (checkpoint) compare_with_checkpoint(replay.state(), *checkpoint, stored_dump_hash, hash, &findings);
    }
    return true;
  });
  take_checkpoint();  // when the feed stopped before its position, or there was none
  findings.events_replayed = fed.events_visited;
  if (!findings.damage.found()) findings.damage = fed.damage();
  if (!findings.damage.found() && fed.last_position != findings.head.position) {
    findings.damage = Finding{fed.last_position + 1, fmt::format("the log ends at position {} but its head is {}",
                                                                  fed.last_position, findings.head.position)};
  }
  if (compare_after_feed && checkpoint) {
    // Both only read the state, which no longer changes (finish() does not watch commands here).
    std::future<Finding> invariants;
    if (!findings.damage.found()) invariants = std::async(std::launch::async, [&replay] { return replay.finish(); });
    compare_with_checkpoint(replay.state(), *checkpoint, stored_dump_hash, log_hash_at_head, &findings);
    if (invariants.valid()) findings.damage = invariants.get();
  } else if (!findings.damage.found()) {
    findings.damage = replay.finish();
  }
  if (checkpoint && findings.verdict == CheckpointVerdict::none) {
    findings.verdict = CheckpointVerdict::differs;
    findings.difference = fmt::format("the rebuild did not reach the checkpoint's position {}", checkpoint->position);
  }
  // The checkpoint is usually at the head (the server writes one when it stops): its dump was
  // just hashed, so the head's hash is known without a second pass over the state.
  const bool compared_at_head = checkpoint && checkpoint->position == replay.state().position &&
                                findings.verdict != CheckpointVerdict::none && !findings.damage.found();
  findings.state_hash_at_head = compared_at_head ? findings.rebuilt_state_hash : state_hash(replay.state());
  return findings;
}

int run_rebuild(const std::string& data_dir, Console& console) {
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(data_dir, "replay rebuild", console, &log, &exit_code)) return exit_code;
  const auto started = std::chrono::steady_clock::now();
  Progress progress(console.progress_bar ? &console.err : nullptr, "rebuild", log->head().position);
  const RebuildFindings findings = rebuild_log(*log, progress);
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::string text = fmt::format("rebuilt: {} events in {:.3f} s ({:.0f} events/s)\n", findings.events_replayed, seconds,
                                 seconds > 0 ? static_cast<double>(findings.events_replayed) / seconds : 0.0);
  if (findings.damage.found()) {
    text += fmt::format("damaged: position {}: {}\n", findings.damage.position, findings.damage.problem);
  }
  switch (findings.verdict) {
    case CheckpointVerdict::none: text += "checkpoint: none (nothing to compare)\n"; break;
    case CheckpointVerdict::equal:
      text += fmt::format("checkpoint: position {}, state hash {}: equal\n", findings.checkpoint_position,
                          to_hex(findings.checkpoint_state_hash));
      break;
    case CheckpointVerdict::differs:
      text += findings.checkpoint_read
                  ? fmt::format("checkpoint: position {}: differs: {}\n", findings.checkpoint_position, findings.difference)
                  : fmt::format("checkpoint: differs: {}\n", findings.difference);
      break;
    case CheckpointVerdict::unreadable: text += fmt::format("checkpoint: unreadable: {}\n", findings.difference); break;
    case CheckpointVerdict::older_format:
      text += fmt::format(
          "checkpoint: position {}: state format {} of an earlier version, not compared (the server replaces it "
          "when it next starts)\n",
          findings.checkpoint_position, findings.checkpoint_format);
      break;
  }
  if (!findings.damage.found()) {
    text += fmt::format("head: position {}, state hash {}\n", findings.head.position, to_hex(findings.state_hash_at_head));
  }
  console.out.write(text);
  const bool checkpoint_fine = findings.verdict == CheckpointVerdict::none || findings.verdict == CheckpointVerdict::equal ||
                               findings.verdict == CheckpointVerdict::older_format;
  return findings.damage.found() || !checkpoint_fine ? exit_failed : exit_ok;
}

}  // namespace tl::replay
