#pragma once
// The seed log of the replay tests and golden files: deterministic journeys through the real
// engine (manual clock, command ids "test-N"):
//   bk_paid         paid, session, released 24 h after the end, rated
//   bk_usd          the same in a second currency (USD, tutor t2, student s2)
//   bk_noshow       paid, nobody starts: no-show refund
//   bk_cancel       a capture with the wrong amount (rejected), then paid, then cancelled: refund
//   bk_dispute      paid, session, disputed, resolved as a split (ETB 100.00 back)
//   bk_declined, bk_expired   never paid
//   wd_1 completed, wd_2 failed (t1, ETB); wd_usd completed (t2, USD)
//   bk_old, bk_mid, bk_recent  held at the end, for 10, 5 and half a day
//   bk_open_dispute disputed at the end; bk_late release_scheduled at the end
// The engine is closed afterwards (writing its checkpoint at the head).
#include <string>

#include "support/engine_fixture.h"

namespace tl::test {

// Instants of the seed timeline (S = example_start, 2026-11-24T10:00:00Z).
constexpr TimeMs seed_end = example_start + 8 * ms_per_day;                 // where the log ends
constexpr TimeMs seed_payout_day_from = example_start + ms_per_day;          // payouts period...
constexpr TimeMs seed_payout_day_to = example_start + 3 * ms_per_day;        // ...two days long
constexpr TimeMs seed_before_releases = example_start + 12 * ms_per_hour;    // a moment in the middle

// Runs the journeys on `f` (fresh, at its default start) and closes it.
void run_seed_journeys(EngineFixture& f);

// The data folder of a seed log built once per test binary and removed when it exits.
const std::string& shared_seed_dir();

}  // namespace tl::test
