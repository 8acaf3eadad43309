#include "replay/state_document.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "projections/json_text.h"
#include "projections/views.h"
#include "replay/data_folder.h"
#include "replay/exit_codes.h"
#include "replay/state_at.h"

namespace tl::replay {

void write_state_document(const State& state, TimeMs at, TextSink& out) {
  BufferedWriter writer(out);
  std::string& buffer = writer.buffer();
  buffer += "{\"at\":";
  json::append_string(buffer, format_rfc3339_millis(at));
  buffer += ",\"position\":";
  json::append_int(buffer, static_cast<int64_t>(state.position));
  buffer += ",\"bookings\":[";
  bool first = true;
  for (const Booking& booking : state.bookings) {
    buffer += first ? "\n" : ",\n";
    first = false;
    views::append_booking(buffer, booking);
    writer.done_appending();
  }
  buffer += "],\"balances\":[";

  struct Row {
    std::string_view account;
    Currency currency;
    int64_t balance;
  };
  std::vector<Row> rows;
  for (const auto& [account, entries] : state.balances) {
    for (const auto& [currency, amount] : entries) rows.push_back(Row{account, currency, amount});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.account != b.account ? a.account < b.account : a.currency < b.currency;
  });
  first = true;
  for (const Row& row : rows) {
    buffer += first ? "\n" : ",\n";
    first = false;
    buffer += "{\"account\":";
    json::append_string(buffer, row.account);
    buffer += ",\"currency\":";
    json::append_string(buffer, row.currency.code());
    buffer += ",\"balance\":";
    json::append_int(buffer, row.balance);
    buffer += '}';
    writer.done_appending();
  }
  buffer += "]}\n";
}

int run_state(const std::string& data_dir, std::optional<TimeMs> at_option, TimeMs now, Console& console) {
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(data_dir, "replay state", console, &log, &exit_code)) return exit_code;
  const TimeMs at = at_or_latest(*log, at_option, now);
  Progress progress(console.progress_bar ? &console.err : nullptr, "state", log->head().position);
  StateReplay replay(/*watch_invariants=*/false);
  FeedLimits limits;
  limits.position_max = log->head().position;
  limits.at_max = at;
  const Finding damage = replay_into(*log, limits, progress, replay);
  progress.finish();
  if (damage.found()) {
    console.err.write(fmt::format("tutorledger replay state: damaged: position {}: {}\n", damage.position, damage.problem));
    return exit_failed;
  }
  write_state_document(replay.state(), at, console.out);
  return exit_ok;
}

}  // namespace tl::replay
