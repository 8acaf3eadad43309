#pragma once
// The event feed on two threads: a reader thread walks the log (checking the hash chain); the
// calling thread decodes each event and visits it, unless the reader decoded it already because
// the visitor was behind (ReaderDecodes). Rebuilds and the domain walk of verify spend about as
// long evolving as reading, so the two halves run side by side. Records are handed over in
// batches through a short bounded queue: memory stays a few batches, whatever the log size.
#include <cstdint>
#include <functional>

#include "engine/log_store.h"
#include "replay/event_feed.h"

namespace tl::replay {

constexpr size_t pipeline_batch_events_max = 2048;
constexpr size_t pipeline_batches_in_flight_max = 4;
// A batch of stored values is handed over once its bytes reach this, whatever their number.
constexpr size_t pipeline_batch_bytes_max = 1 << 20;

// Which thread decodes the events. The visitor's share of the work grows with the state (a long
// log's maps miss the cache more, its growth faults in new pages), the reader's stays the same
// per event: at 1M events the reader is the longer of the two, at 10M the visitor. So by default
// the reader decodes a batch itself when the visitor is behind (a batch it handed over is still
// waiting), which it would otherwise spend waiting for an empty batch.
enum class ReaderDecodes { when_visitor_is_behind, always, never };
struct PipelineOptions {
  ReaderDecodes reader_decodes = ReaderDecodes::when_visitor_is_behind;
};

// The visitor sees the decoded event and the stored hash of its record. Return false to stop.
using DecodedVisitor = std::function<bool(const Event&, const Digest& hash)>;

// Hands records in position order to `accept` (which returns false once it wants no more) and
// says how its walk ended; corruption names the position. Runs on the reader thread.
// The record may be taken (its strings swapped out): the source sets every field again.
using RecordAccept = std::function<bool(EventRecord&)>;
using RecordSource = std::function<Status(const RecordAccept& accept)>;

// Visits events from position 1 through the limits (the stream filter does not apply here),
// read by LogStore::scan_stored: gapless positions, each record's hash recomputed and linked.
// The reading thread only walks and hashes the log; this thread also parses each record.
FeedResult feed_events_pipelined(const LogStore& log, const FeedLimits& limits, Progress& progress,
                                 const DecodedVisitor& visit, const PipelineOptions& options = {});

// The same from another walk of the log, e.g. LogStore::verify's, so that a command which checks
// the records and evolves the events reads the log once.
FeedResult feed_records_pipelined(const RecordSource& source, const FeedLimits& limits, Progress& progress,
                                  const DecodedVisitor& visit, const PipelineOptions& options = {});

}  // namespace tl::replay
