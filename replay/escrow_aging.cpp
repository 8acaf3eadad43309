#include "replay/escrow_aging.h"

#include <algorithm>
#include <cassert>

#include "replay/csv_writer.h"
#include "replay/state_at.h"

namespace tl::replay {

std::string_view age_bucket(TimeMs age) {
  if (age < 1 * ms_per_day) return "0-1d";
  if (age < 3 * ms_per_day) return "1-3d";
  if (age < 7 * ms_per_day) return "3-7d";
  return ">7d";
}

Finding export_escrow_aging(const LogStore& log, TimeMs at, Progress& progress, TextSink& out) {
  StateReplay replay(/*watch_invariants=*/false);
  FeedLimits limits;
  limits.position_max = log.head().position;
  limits.at_max = at;
  if (Finding damage = replay_into(log, limits, progress, replay); damage.found()) return damage;

  std::vector<const Booking*> holding;
  for (const Booking& booking : replay.state().bookings) {
    const EscrowStatus status = booking.escrow_status;
    if (status == EscrowStatus::held || status == EscrowStatus::release_scheduled || status == EscrowStatus::disputed) {
      assert(booking.held_at.has_value());
      holding.push_back(&booking);
    }
  }
  std::sort(holding.begin(), holding.end(), [](const Booking* a, const Booking* b) {
    return a->held_at != b->held_at ? a->held_at < b->held_at : a->id < b->id;
  });

  CsvWriter csv(out);
  csv.text("booking").text("status").text("amount").text("currency").text("held_since").text("release_at").text("age_bucket");
  csv.end_row();
  for (const Booking* booking : holding) {
    const TimeMs held_since = booking->held_at.value_or(at);
    csv.text(booking->id).text(status_name(booking->escrow_status)).number(booking->price.amount);
    csv.text(booking->price.currency.code()).text(format_rfc3339_millis(held_since));
    if (booking->escrow_status == EscrowStatus::release_scheduled && booking->release_at) {
      csv.text(format_rfc3339_millis(*booking->release_at));
    } else {
      csv.blank();
    }
    csv.text(age_bucket(std::max<TimeMs>(0, at - held_since)));
    csv.end_row();
  }
  csv.flush();
  return Finding::none();
}

}  // namespace tl::replay
