#include "replay/history.h"

#include <cassert>

#include <fmt/format.h>

#include "projections/json_text.h"
#include "replay/data_folder.h"
#include "replay/event_feed.h"
#include "replay/exit_codes.h"

namespace tl::replay {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  json::append_string(out, text);
  return out;
}

// The facts worth a glance, per event type; `currency` is the booking's.
class Details {
 public:
  explicit Details(const Currency& currency) : currency_(currency) {}

  std::string operator()(const BookingRequested& e) const {
    return fmt::format("{}, {} min from {}, price {}", quoted(e.subject), e.duration_minutes,
                       format_rfc3339_millis(e.scheduled_start), format_money(e.price));
  }
  std::string operator()(const BookingDeclined& e) const { return reason(e.reason); }
  std::string operator()(const BookingCancelled& e) const { return reason(e.reason); }
  std::string operator()(const BookingExpired& e) const { return "stage " + e.stage; }
  std::string operator()(const CheckoutOpened& e) const {
    return fmt::format("tx_ref {}, {}", quoted(e.tx_ref), format_money(e.amount));
  }
  std::string operator()(const PaymentCaptured& e) const {
    return fmt::format("reference {}, tx_ref {}, {}", quoted(e.reference), quoted(e.tx_ref), format_money(e.amount));
  }
  std::string operator()(const PaymentRejected& e) const {
    std::string text = fmt::format("reference {}, tx_ref {}, reason {}", quoted(e.reference), quoted(e.tx_ref), quoted(e.reason));
    // As the provider sent them (they may not parse); events of schema 1 did not keep them.
    if (!e.provider_amount.empty() || !e.provider_currency.empty()) {
      text += fmt::format(", provider reported {} {}", quoted(e.provider_amount), quoted(e.provider_currency));
    }
    return text;
  }
  std::string operator()(const EscrowHeld& e) const { return format_money(e.amount); }
  std::string operator()(const SessionStarted& e) const { return "channel " + quoted(e.channel); }
  std::string operator()(const SessionEnded& e) const {
    return fmt::format("{} at {}, {} s", e.cause, format_rfc3339_millis(e.ended_at), e.duration_seconds);
  }
  std::string operator()(const EscrowReleaseScheduled& e) const {
    return fmt::format("release at {}, tutor {}, fee {}", format_rfc3339_millis(e.release_at), money(e.tutor_amount),
                       money(e.fee_amount));
  }
  std::string operator()(const EscrowReleased& e) const {
    return fmt::format("tutor {}, fee {}", money(e.tutor_amount), money(e.fee_amount));
  }
  std::string operator()(const EscrowRefunded& e) const { return "refund " + money(e.amount); }
  std::string operator()(const DisputeOpened& e) const { return reason(e.reason); }
  std::string operator()(const DisputeResolved& e) const {
    return fmt::format("{}: refund {}, tutor {}, fee {}", e.outcome, money(e.refund_amount), money(e.tutor_amount),
                       money(e.fee_amount));
  }
  std::string operator()(const SessionRated& e) const {
    return e.comment.empty() ? fmt::format("{} stars", e.stars) : fmt::format("{} stars, {}", e.stars, quoted(e.comment));
  }
  template <class Other>
  std::string operator()(const Other&) const {
    return {};
  }

 private:
  static std::string reason(const std::string& text) { return text.empty() ? std::string() : "reason " + quoted(text); }
  std::string money(int64_t amount) const { return format_money(Money{amount, currency_}); }
  Currency currency_;
};

void append_event_lines(std::string& out, const Event& event, const Currency& currency) {
  // Columns are padded to the usual widths (longer ids just push the line along).
  const std::string details = std::visit(Details(currency), event.data);
  const std::string position = fmt::format("#{}", event.position);
  out += fmt::format("{}  {:<6} {:<12} {:<22}  {}", format_rfc3339_millis(event.at), position, actor_text(event.actor),
                     event_name(event.data), details);
  while (out.back() == ' ') out.pop_back();
  out += '\n';
  for (const Posting& posting : postings_of(event.data)) {
    // Under the type column: time (24), position (2 + 6) and actor (1 + 12 + 1) take 46 columns.
    out += fmt::format("{:<46}{} {} \u2192 {}\n", "", format_money(Money{posting.amount, posting.currency}),
                       posting.debit, posting.credit);
  }
}

}  // namespace

Status write_history(const LogStore& log, std::string_view booking_id, Progress& progress, TextSink& out) {
  if (!valid_entity_id(booking_id)) return Status::not_found(fmt::format("no booking {}", quoted(booking_id)));
  const std::string stream = booking_stream(booking_id);
  Currency currency;
  BufferedWriter writer(out);
  FeedLimits limits;
  limits.position_max = log.head().position;
  limits.stream = stream;
  const FeedResult fed = feed_events(log, limits, progress, [&](const EventRecord&, const Event& event) {
    if (const auto* requested = std::get_if<BookingRequested>(&event.data)) {
      currency = requested->price.currency;
      writer.write(fmt::format("booking {}: student {}, tutor {} (stream {})\n", booking_id, requested->student_id,
                               requested->tutor_id, stream));
    }
    append_event_lines(writer.buffer(), event, currency);
    writer.done_appending();
    return true;
  });
  writer.flush();
  if (!fed.status.is_ok()) return fed.status;
  if (fed.events_visited == 0) return Status::not_found(fmt::format("no booking {}", booking_id));
  return Status::ok();
}

int run_history(const std::string& data_dir, const std::string& booking_id, Console& console) {
  std::unique_ptr<LogStore> log;
  int exit_code = exit_ok;
  if (!open_or_report(data_dir, "replay history", console, &log, &exit_code)) return exit_code;
  StringSink text;  // a booking has a few dozen events: print all or nothing
  Progress progress(console.progress_bar ? &console.err : nullptr, "history", log->head().position);
  const Status status = write_history(*log, booking_id, progress, text);
  progress.finish();
  if (status.is_not_found()) {
    console.err.write(fmt::format("tutorledger replay history: {} in {}\n", status.message(), data_dir));
    return exit_failed;
  }
  if (!status.is_ok()) {
    console.err.write(fmt::format("tutorledger replay history: cannot read booking {}: {}\n", booking_id, status.to_string()));
    return exit_failed;
  }
  console.out.write(text.text());
  return exit_ok;
}

}  // namespace tl::replay
