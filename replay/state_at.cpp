#include "replay/state_at.h"

#include <cassert>

namespace tl::replay {

Finding replay_into(const LogStore& log, const FeedLimits& limits, Progress& progress, StateReplay& replay,
                    const EventVisitor& also) {
  Finding damage;
  const FeedResult fed = feed_events(log, limits, progress, [&](const EventRecord& record, const Event& event) {
    damage = replay.apply(event);
    if (damage.found()) return false;
    return !also || also(record, event);
  });
  if (!damage.found()) damage = fed.damage();
  assert(damage.found() || replay.state().position == fed.last_position);
  return damage;
}

}  // namespace tl::replay
