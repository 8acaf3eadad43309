#pragma once
// The projections as they stood at a moment: every event up to a time (or position) evolved
// from an empty state. Shared by `replay state` and the exports that need bookings.
#include "engine/log_store.h"
#include "replay/event_feed.h"
#include "replay/state_replay.h"

namespace tl::replay {

// Replays the events within `limits` into `replay`, then calls `also` (may be empty) with each
// applied event. Returns where it stopped on damage (none when it reached the limit cleanly).
// The limit's position_max should be the head seen at the start (a concurrent writer may add
// events; they are not part of this run).
Finding replay_into(const LogStore& log, const FeedLimits& limits, Progress& progress, StateReplay& replay,
                    const EventVisitor& also = {});

}  // namespace tl::replay
