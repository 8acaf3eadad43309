#pragma once
// What an audit command writes to: its product (`out`), its diagnostics (`err`), and whether
// a progress bar may be drawn on `err` (a terminal: the CLI checks isatty(stderr)).
#include "replay/text_sink.h"

namespace tl::replay {

struct Console {
  TextSink& out;
  TextSink& err;
  bool progress_bar = false;
};

}  // namespace tl::replay
