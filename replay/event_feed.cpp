#include "replay/event_feed.h"

#include <cassert>

#include <fmt/format.h>

#include "engine/event_codec.h"

namespace tl::replay {

Finding FeedResult::damage() const {
  if (status.is_ok()) return Finding::none();
  const uint64_t position = last_position + 1;
  const std::string prefix = fmt::format("position {}: ", position);
  const std::string& message = status.message();
  return Finding{position, message.starts_with(prefix) ? message.substr(prefix.size()) : message};
}

FeedResult feed_events(const LogStore& log, const FeedLimits& limits, Progress& progress, const EventVisitor& visit) {
  FeedResult result;
  Event event;
  Status failure;
  const Status scanned = log.scan(1, [&](const EventRecord& record) {
    if (record.position > limits.position_max || record.at > limits.at_max) return false;
    result.last_position = record.position;
    progress.update(record.position);
    if (!limits.stream.empty() && record.stream != limits.stream) return true;
    if (Status decoded = decode_event(record, &event); !decoded.is_ok()) {
      result.last_position = record.position - 1;  // the last event that was read whole
      failure = std::move(decoded);
      return false;
    }
    ++result.events_visited;
    return visit(record, event);
  });
  result.status = failure.is_ok() ? scanned : failure;
  assert(result.events_visited <= result.last_position);
  return result;
}

}  // namespace tl::replay
