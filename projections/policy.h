#pragma once
// Policy values of DESIGN section 3, in one place. `decide` reads them; `evolve` never does:
// every amount and instant a policy produced is written into the event, so a log replays to the
// same state whatever the policy is today.
#include <cstdint>

#include "projections/time.h"

namespace tl {

struct Policy {
  TimeMs start_window_before_ms = 5 * ms_per_minute;   // window opens before scheduled_start
  TimeMs start_window_after_ms = 15 * ms_per_minute;   // and closes after it
  TimeMs escrow_hold_ms = 24 * ms_per_hour;            // release this long after the session ends
  TimeMs auto_end_grace_ms = 15 * ms_per_minute;       // after scheduled_start + duration
  TimeMs request_expiry_ms = 24 * ms_per_hour;         // or at scheduled_start, whichever is first
  int64_t fee_bps = 1500;                              // platform fee, rounded down
  int64_t duration_minutes_min = 15;
  int64_t duration_minutes_max = 240;
  int64_t price_amount_min = 1;
  int64_t price_amount_max = 1'000'000'000'000;        // 10^12 minor units
  int64_t withdrawal_amount_max = 1'000'000'000'000'000;
  // Text limits, in bytes of UTF-8.
  size_t subject_bytes_max = 200;
  size_t reason_bytes_max = 1000;
  size_t notes_bytes_max = 10000;
  size_t comment_bytes_max = 2000;
  size_t destination_bytes_max = 200;
  size_t reference_bytes_max = 128;
};

}  // namespace tl
