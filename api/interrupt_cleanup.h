#pragma once
// How the audit commands (replay, export, reconcile) end on Ctrl-C, a kill or a hang-up: the
// half-written export and the RocksDB secondary's scratch folder are deleted (engine/leftovers.h),
// a progress bar's line is cleared, and the process ends by that same signal (so a shell sees
// 130 for SIGINT). Writing to a closed pipe (`| head`) is a write error instead of a SIGPIPE
// death, so it exits 1 through the normal clean-up.
namespace tl::cli {

// Call once, before any other thread starts: SIGINT, SIGTERM and SIGHUP are blocked in every
// thread from then on and a watcher thread takes them.
void install_interrupt_cleanup(bool clear_bar_line);

}  // namespace tl::cli
