#pragma once
// Streams the log as decoded domain events, in position order, from position 1: the one read
// loop under every audit command. Memory stays one record and one event, whatever the log size.
//
// The writer stamps events with a time that never goes backwards (engine: stamp_now), so "every
// event up to time T" is a prefix of the log and the feed stops at the first event past T.
#include <cstdint>
#include <functional>
#include <limits>

#include "engine/event_record.h"
#include "engine/log_store.h"
#include "projections/events.h"
#include "replay/finding.h"
#include "replay/progress.h"

namespace tl::replay {

struct FeedLimits {
  // The last position to visit: the head the command saw when it started.
  uint64_t position_max = std::numeric_limits<uint64_t>::max();
  // The last instant to visit, inclusive: the feed stops before the first event with a later `at`.
  TimeMs at_max = time_ms_max;
  // When set, only this stream's events are decoded and visited (the others are still read and
  // chained, but not decoded into domain events).
  std::string_view stream;
};

struct FeedResult {
  Status status;                // corruption names the position of the event that could not be read
  uint64_t events_visited = 0;
  uint64_t last_position = 0;   // of the last event read whole (visited or skipped); 0 for none
  // Of the visited events, those the reading thread decoded (replay/pipelined_feed.h); 0 elsewhere.
  uint64_t events_decoded_by_reader = 0;
  // Where the feed stopped on a bad status (none when it is ok): the position after the last
  // good one, and what is wrong there without the "position N: " the status message starts with
  // (reports name the position once).
  Finding damage() const;
};

// Return false to stop early (the result is still ok).
using EventVisitor = std::function<bool(const EventRecord&, const Event&)>;

// Visits events from position 1 through the limits. Each record's hash is recomputed and linked
// to the one before (LogStore::scan), then decoded into a domain event (engine/event_codec.h).
FeedResult feed_events(const LogStore& log, const FeedLimits& limits, Progress& progress, const EventVisitor& visit);

}  // namespace tl::replay
