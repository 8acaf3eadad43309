#pragma once
// `replay rebuild`: rebuilds every projection from the log alone and compares the result with
// the engine's checkpoint. The checkpoint reflects position P, so the rebuild is compared when it
// reaches P: its state hash, its dump byte for byte against the checkpoint payload, and the log
// hash at P the payload was taken on. Then it goes on to the head and prints that state hash.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/log_store.h"
#include "replay/console.h"
#include "replay/progress.h"
#include "replay/state_replay.h"

namespace tl::replay {

// older_format: the checkpoint holds a state dump of an earlier format (written before an
// upgrade, and replaced by the server's next checkpoint); there is nothing to compare it with.
enum class CheckpointVerdict { none, equal, differs, unreadable, older_format };

struct RebuildFindings {
  Finding damage;                      // the replay stopped here (none when it reached the head)
  uint64_t events_replayed = 0;
  LogHead head;
  Digest state_hash_at_head{};
  CheckpointVerdict verdict = CheckpointVerdict::none;
  bool checkpoint_read = false;        // a checkpoint was found and read whole
  uint64_t checkpoint_position = 0;
  Digest checkpoint_state_hash{};      // as stored
  Digest rebuilt_state_hash{};         // of the rebuild at the checkpoint's position
  std::string difference;              // why it differs, one line
  uint32_t checkpoint_format = 0;      // the dump's format, when older_format
};

RebuildFindings rebuild_log(const LogStore& log, Progress& progress);

// Exit 0 when equal, of an older format, or there is no checkpoint; 1 when it differs, cannot be read, or the log is
// damaged.
int run_rebuild(const std::string& data_dir, Console& console);

}  // namespace tl::replay
