#pragma once
// `export trial-balance --at T`: every account's balance (credits − debits, minor units) after
// the events at or before T, summed from the postings alone (the journal's view, independent
// of the projections):
//   account,currency,balance
// sorted by account then currency, accounts at zero left out, then one `TOTAL,<currency>,<sum>`
// row per currency. Double entry makes every TOTAL 0; one that is not is reported as damage.
#include "engine/log_store.h"
#include "replay/progress.h"
#include "replay/state_replay.h"
#include "replay/text_sink.h"

namespace tl::replay {

Finding export_trial_balance(const LogStore& log, TimeMs at, Progress& progress, TextSink& out);

}  // namespace tl::replay
