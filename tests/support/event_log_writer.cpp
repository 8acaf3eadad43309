#include "support/event_log_writer.h"

#include <doctest/doctest.h>

#include "engine/event_codec.h"
#include "support/log_test_support.h"

namespace tl::test {

Event make_event(std::string stream, EventData data, Actor actor, TimeMs at, std::string command_id) {
  Event event;
  event.stream = std::move(stream);
  event.data = std::move(data);
  event.actor = std::move(actor);
  event.at = at;
  event.command_id = std::move(command_id);
  return event;
}

void write_log(const std::string& path, const std::vector<Event>& events) {
  LogOptions options;
  options.sync = false;
  std::unique_ptr<LogStore> log = logtest::open_log(path, options);
  size_t i = 0;
  while (i < events.size()) {
    StreamAppend append{events[i].stream, ExpectedVersion::any(), {}};
    size_t end = i;
    while (end < events.size() && events[end].stream == events[i].stream && events[end].command_id == events[i].command_id) {
      append.events.push_back(make_new_event(events[end].data, events[end].actor, events[end].at, events[end].command_id));
      ++end;
    }
    AppendBatch batch;
    batch.streams.push_back(std::move(append));
    const AppendResult result = log->append(batch);
    REQUIRE_MESSAGE(result.status.is_ok(), result.status.to_string());
    i = end;
  }
}

}  // namespace tl::test
