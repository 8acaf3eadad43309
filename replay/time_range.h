#pragma once
// The period of `--from T` / `--to T`: from inclusive, to exclusive, so that consecutive periods
// (--from Nov --to Dec, --from Dec --to Jan) neither overlap nor leave a gap. Either end may be
// open. `--at T` options are inclusive instead: the state after every event at or before T.
#include <optional>

#include "projections/time.h"
#include "replay/event_feed.h"

namespace tl::replay {

struct TimeRange {
  std::optional<TimeMs> from;  // inclusive
  std::optional<TimeMs> to;    // exclusive

  bool contains(TimeMs at) const { return (!from || at >= *from) && (!to || at < *to); }
  // Feed limits that stop after the last event before `to`.
  FeedLimits limits(uint64_t position_max) const {
    FeedLimits limits;
    limits.position_max = position_max;
    if (to) limits.at_max = *to - 1;
    return limits;
  }
};

}  // namespace tl::replay
