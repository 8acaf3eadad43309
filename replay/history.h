#pragma once
// `replay history BOOKING_ID`: one booking's events in order, for people: time, position,
// actor, type, a few key facts, and every posting as "ETB 297.50 escrow:bk_1 → tutor:t1".
// Streams the whole log (LogStore::scan, so the hash chain is checked on the way) and decodes
// only the booking's own events.
#include <string>

#include "engine/log_store.h"
#include "replay/console.h"
#include "replay/progress.h"

namespace tl::replay {

// Writes the history to `out`. not_found when the log has no such booking; corruption naming
// the position when the log is damaged before the booking's last event.
Status write_history(const LogStore& log, std::string_view booking_id, Progress& progress, TextSink& out);

// Exit 0 with the history, 1 for an unknown booking or an unreadable stream.
int run_history(const std::string& data_dir, const std::string& booking_id, Console& console);

}  // namespace tl::replay
