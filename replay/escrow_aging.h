#pragma once
// `export escrow --at T`: the escrows holding money at T (held, release_scheduled, disputed),
// oldest first:
//   booking,status,amount,currency,held_since,release_at,age_bucket
// `release_at` is filled for release_scheduled only. The age is T − held_since, in buckets
// `0-1d` (under a day), `1-3d` (1 day up to 3), `3-7d` (3 up to 7), `>7d` (7 days or more).
#include <string_view>

#include "engine/log_store.h"
#include "replay/progress.h"
#include "replay/state_replay.h"
#include "replay/text_sink.h"

namespace tl::replay {

std::string_view age_bucket(TimeMs age);

Finding export_escrow_aging(const LogStore& log, TimeMs at, Progress& progress, TextSink& out);

}  // namespace tl::replay
