#pragma once
// `export payouts --from T --to T`: per tutor and currency, over the period:
//   tutor,currency,released,fees,withdrawn,balance,withdrawing
//   released    — net amounts paid to the tutor from escrow (releases and the released part of
//                 dispute splits), from the postings escrow:* → tutor:<id>;
//   fees        — platform fees taken on those releases (escrow:* → platform:fees);
//   withdrawn   — completed withdrawals (tutor:<id>:withdrawing → external:payouts);
//   balance     — the tutor:<id> account after the last event of the period;
//   withdrawing — the tutor:<id>:withdrawing account then: withdrawals requested and neither
//                 completed nor failed, which have left `balance` but are not `withdrawn` yet.
// Sorted by tutor then currency; tutors with nothing to show (all five 0) are left out.
#include "engine/log_store.h"
#include "replay/progress.h"
#include "replay/state_replay.h"
#include "replay/text_sink.h"
#include "replay/time_range.h"

namespace tl::replay {

Finding export_payouts(const LogStore& log, const TimeRange& range, Progress& progress, TextSink& out);

}  // namespace tl::replay
