#include "replay/progress.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

namespace tl::replay {
namespace {

// "2.31M", "27k", "350": a small log's first frames read as a rate, not as "0.00M".
std::string rate_text(double events_per_s) {
  if (events_per_s >= 1e6) return fmt::format("{:.2f}M", events_per_s / 1e6);
  if (events_per_s >= 1e3) return fmt::format("{:.0f}k", events_per_s / 1e3);
  return fmt::format("{:.0f}", events_per_s);
}

}  // namespace

Progress::Progress(TextSink* sink, std::string_view label, uint64_t events_total)
    : sink_(sink), label_(label), events_total_(events_total), started_(Clock::now()), last_redraw_(started_) {}

void Progress::redraw(uint64_t events_done) {
  assert(sink_ != nullptr);
  const Clock::time_point now = Clock::now();
  if (now - last_redraw_ < std::chrono::milliseconds(redraw_interval_ms)) return;
  last_redraw_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(events_done) / seconds : 0;
  const uint64_t total = std::max(events_total_, events_done);
  const size_t filled = total == 0 ? bar_width_chars : static_cast<size_t>(events_done * bar_width_chars / total);
  const uint64_t percent = total == 0 ? 100 : events_done * 100 / total;
  std::string line = fmt::format("\r{} [{}{}] {:3}%  {}/{} events  {} events/s\x1b[K", label_,
                                 std::string(filled, '#'), std::string(bar_width_chars - filled, '-'), percent,
                                 events_done, total, rate_text(rate));
  sink_->write(line);
  drawn_ = true;
}

void Progress::finish() {
  if (sink_ != nullptr && drawn_) sink_->write("\r\x1b[K");
  sink_ = nullptr;
}

}  // namespace tl::replay
