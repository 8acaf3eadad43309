#include "replay/journal_export.h"

#include <cassert>

#include "replay/csv_writer.h"

namespace tl::replay {

Finding export_journal(const LogStore& log, const TimeRange& range, Progress& progress, TextSink& out) {
  CsvWriter csv(out);
  csv.text("position").text("at").text("booking").text("event_type").text("account").text("debit").text("credit").text("currency");
  csv.end_row();
  std::string at_text;
  const FeedResult fed = feed_events(log, range.limits(log.head().position), progress, [&](const EventRecord& record, const Event& event) {
    if (!range.contains(event.at)) return true;
    const std::vector<Posting>& postings = postings_of(event.data);
    if (postings.empty()) return true;
    at_text = format_rfc3339_millis(event.at);
    const std::string_view booking = booking_id_of(event.data);
    for (const Posting& posting : postings) {
      const auto position = static_cast<int64_t>(record.position);
      csv.number(position).text(at_text).text(booking).text(record.type).text(posting.debit);
      csv.number(posting.amount).blank().text(posting.currency.code());
      csv.end_row();
      csv.number(position).text(at_text).text(booking).text(record.type).text(posting.credit);
      csv.blank().number(posting.amount).text(posting.currency.code());
      csv.end_row();
    }
    return true;
  });
  csv.flush();
  return fed.damage();
}

}  // namespace tl::replay
