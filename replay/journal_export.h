#pragma once
// `export journal`: every posting of the period as two rows, double-entry style:
//   position,at,booking,event_type,account,debit,credit,currency
// the debited account with `debit` filled and `credit` empty, then the credited account the
// other way round. `booking` is empty for withdrawal events. Needs no projections: it streams.
#include "engine/log_store.h"
#include "replay/progress.h"
#include "replay/state_replay.h"
#include "replay/text_sink.h"
#include "replay/time_range.h"

namespace tl::replay {

Finding export_journal(const LogStore& log, const TimeRange& range, Progress& progress, TextSink& out);

}  // namespace tl::replay
