#pragma once
// The event feed on two threads: a reader thread scans the log, checks the hash chain (or not,
// see FeedChecks) and decodes each event; the calling thread visits the decoded events. Rebuilds
// and the domain walk of verify spend about as long evolving as reading and decoding, so the
// two halves run side by side. Events are handed over in batches through a short bounded queue:
// memory stays a few batches, whatever the log size.
#include <cstdint>
#include <functional>

#include "engine/log_store.h"
#include "replay/event_feed.h"

namespace tl::replay {

constexpr size_t pipeline_batch_events_max = 2048;
constexpr size_t pipeline_batches_in_flight_max = 4;

enum class FeedChecks {
  chain,      // LogStore::scan: gapless positions, each record's hash recomputed and linked
  positions,  // gapless positions only: for a walk that runs beside LogStore::verify
};

// The visitor sees the decoded event and the stored hash of its record. Return false to stop.
using DecodedVisitor = std::function<bool(const Event&, const Digest& hash)>;

// Visits events from position 1 through the limits (the stream filter does not apply here).
FeedResult feed_events_pipelined(const LogStore& log, const FeedLimits& limits, FeedChecks checks, Progress& progress,
                                 const DecodedVisitor& visit);

}  // namespace tl::replay
