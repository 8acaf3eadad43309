#pragma once
// Writes domain events into a real log (LogStore), as the engine would: one append per command
// (consecutive events with one command id and stream). For logs the engine would never write:
// crafted damage with an intact hash chain, or a harness's log.
#include <string>
#include <vector>

#include "projections/events.h"

namespace tl::test {

// An event before the log places it (position and version are the log's to assign).
Event make_event(std::string stream, EventData data, Actor actor, TimeMs at, std::string command_id);

// Appends `events` to the log at `path` (created if missing) and closes it.
void write_log(const std::string& path, const std::vector<Event>& events);

}  // namespace tl::test
