#pragma once
// `tutorledger replay|export|reconcile` (API.md, CLI): argument parsing in front of the replay
// library (replay/), which does the work. The run_* functions take their console and clock as
// arguments so that tests call them directly; replay(), export_csv() and reconcile() in cli.h
// wire them to stdout, stderr (a progress bar when it is a terminal) and the system clock.
#include "api/cli.h"
#include "projections/time.h"
#include "replay/console.h"

namespace tl::cli {

// `replay verify|rebuild|history|state ...`; `now` is the default of `state --at`.
int run_replay_command(Args args, replay::Console& console, TimeMs now);
// `export journal|trial-balance|escrow|payouts ...`; `now` is the default of `--at`.
int run_export_command(Args args, replay::Console& console, TimeMs now);
// `reconcile --data DIR --statement FILE.csv`
int run_reconcile_command(Args args, replay::Console& console);

}  // namespace tl::cli
