#pragma once
// `replay verify`: is this log the one the engine wrote, and does it still make sense?
//   1. the log's own checks (LogStore::verify): gapless positions, the hash chain, canonical
//      records, stream versions and their index, the metadata head;
//   2. the domain: every event decodes and evolves, and the invariants hold (at each command
//      boundary; the money ones after every event: replay/invariant_watch.h);
//   3. optionally an auditor's digest: the event at POS still has HASH.
// Walks 1 and 2 share one read of the log: a reader thread runs walk 1 and decodes each record
// it vouched for, the calling thread evolves the events (the domain walk stops where the chain
// walk found damage). The report names the first bad position any of them found.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/log_store.h"
#include "replay/console.h"
#include "replay/progress.h"
#include "replay/ledger_digest.h"
#include "replay/state_replay.h"

namespace tl::replay {

struct VerifyFindings {
  uint64_t events_checked = 0;    // by the chain walk
  uint64_t events_replayed = 0;   // by the domain walk
  uint64_t commands_checked = 0;
  LogHead head;                   // the head the walks started from
  Finding first_bad;              // none when clean
  bool clean() const { return !first_bad.found(); }
};

// Runs the three checks on an open log. `progress` follows the domain walk.
VerifyFindings verify_log(const LogStore& log, const std::optional<LedgerDigest>& digest, Progress& progress);

// The command: opens `data_dir` as a secondary, verifies, prints the verdict. Exit 0 clean, 1 on
// damage (one line naming the first bad position), 2 when the folder cannot be opened as a log.
int run_verify(const std::string& data_dir, const std::optional<LedgerDigest>& digest, Console& console);

}  // namespace tl::replay
