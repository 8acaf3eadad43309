#pragma once
// What an audit command writes to: its product (`out`), its diagnostics (`err`), and whether
// a progress bar may be drawn on `err` (a terminal: the CLI checks isatty(stderr)).
#include "replay/text_sink.h"

namespace tl::replay {

struct Console {
  TextSink& out;
  TextSink& err;
  bool progress_bar = false;
  // `out` is a terminal too (the CLI checks isatty(stdout)): a command that streams its product
  // to `out` while it scans draws no bar, or the bar's text would land between its rows.
  bool out_on_terminal = false;
};

// Whether a command that writes its product while it scans (to a file, or to `out`) may draw
// the bar: not when both go to the terminal.
inline bool bar_while_writing(const Console& console, bool writes_to_file) {
  return console.progress_bar && (writes_to_file || !console.out_on_terminal);
}

}  // namespace tl::replay
