#pragma once
// A progress bar for long runs on a terminal: `verify [########------]  52%  1234567/2345678
// events  1.23M events/s`, redrawn in place on stderr at most a few times a second. Off a
// terminal the CLI passes no sink and nothing is drawn.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "replay/text_sink.h"

namespace tl::replay {

class Progress {
 public:
  // `sink` null: no bar (off a terminal, in tests). `events_total` is the log head at the start.
  Progress(TextSink* sink, std::string_view label, uint64_t events_total);
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Cheap enough to call for every event: the clock is read once per `check_every_events`.
  void update(uint64_t events_done) {
    if (sink_ == nullptr || events_done < next_check_) return;
    next_check_ = events_done + check_every_events;
    redraw(events_done);
  }
  // Clears the bar (once); later updates draw nothing.
  void finish();

 private:
  static constexpr uint64_t check_every_events = 16 * 1024;
  static constexpr int64_t redraw_interval_ms = 200;
  static constexpr size_t bar_width_chars = 30;

  void redraw(uint64_t events_done);

  using Clock = std::chrono::steady_clock;
  TextSink* sink_;
  std::string label_;
  uint64_t events_total_;
  uint64_t next_check_ = 0;
  Clock::time_point started_;
  Clock::time_point last_redraw_;
  bool drawn_ = false;
};

}  // namespace tl::replay
