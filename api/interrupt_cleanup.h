#pragma once
// How the audit commands (replay, export, reconcile) end on Ctrl-C, a kill or a hang-up: the
// half-written export and the RocksDB secondary's scratch folder are deleted (engine/leftovers.h),
// a progress bar's line is cleared, and the process ends by that same signal (so a shell sees
// 130 for SIGINT). Standard output closed by its reader (`| head`) ends the command the same way,
// quietly and by SIGPIPE, as it ends `cat`: the reader took what it wanted.
namespace tl::cli {

// Call once, before any other thread starts: SIGINT, SIGTERM and SIGHUP are blocked in every
// thread from then on and a watcher thread takes them. SIGPIPE is ignored, so that a write to a
// closed pipe fails with EPIPE where the command can clean up first.
void install_interrupt_cleanup(bool clear_bar_line);

// For a write to standard output that failed with EPIPE: the clean-up above, then death by
// SIGPIPE (exit status 141 in a shell), with nothing said.
[[noreturn]] void end_by_closed_pipe();

}  // namespace tl::cli
