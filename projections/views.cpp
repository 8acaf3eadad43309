#include "projections/views.h"

#include <algorithm>

#include "projections/json_text.h"
#include "projections/pending_timer.h"

namespace tl::views {
namespace {

void append_time(std::string& out, const std::optional<TimeMs>& at) {
  if (at) {
    append_rfc3339_seconds_json(out, *at);
  } else {
    out += "null";
  }
}

void append_time(std::string& out, OptionalInt64 at) { append_time(out, at.as_optional()); }

void append_optional_int(std::string& out, OptionalInt64 value) {
  if (value) {
    json::append_int(out, *value);
  } else {
    out += "null";
  }
}

void append_optional_money(std::string& out, OptionalInt64 amount, const Currency& currency) {
  if (amount) {
    append_money(out, Money{*amount, currency});
  } else {
    out += "null";
  }
}

void append_text_or_null(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    json::append_string(out, text);
  }
}

void append_escrow(std::string& out, const Booking& b) {
  out += "{\"status\":";
  json::append_string(out, status_name(b.escrow_status));
  out += ",\"amount\":";
  append_money(out, b.price);
  out += ",\"held_at\":";
  append_time(out, b.held_at);
  out += ",\"release_scheduled_at\":";
  append_time(out, b.release_at);
  out += ",\"released_at\":";
  append_time(out, b.released_at);
  out += ",\"tutor_amount\":";
  append_optional_money(out, b.tutor_amount, b.price.currency);
  out += ",\"fee_amount\":";
  append_optional_money(out, b.fee_amount, b.price.currency);
  out += ",\"refunded_amount\":";
  append_optional_money(out, b.refunded_amount, b.price.currency);
  out += '}';
}

}  // namespace

void append_money(std::string& out, const Money& money) {
  out += "{\"amount\":";
  json::append_int(out, money.amount);
  out += ",\"currency\":";
  json::append_string(out, money.currency.code());
  out += '}';
}

void append_booking(std::string& out, const Booking& b) {
  out += "{\"id\":";
  json::append_string(out, b.id);
  out += ",\"student_id\":";
  json::append_string(out, b.student_id);
  out += ",\"tutor_id\":";
  json::append_string(out, b.tutor_id);
  out += ",\"subject\":";
  json::append_string(out, b.subject);
  out += ",\"scheduled_start\":";
  append_rfc3339_seconds_json(out, b.scheduled_start);
  out += ",\"duration_minutes\":";
  json::append_int(out, b.duration_minutes);
  out += ",\"price\":";
  append_money(out, b.price);
  out += ",\"status\":";
  json::append_string(out, status_name(b.status));
  out += ",\"payment_ref\":";
  append_text_or_null(out, b.payment_ref());
  out += ",\"session\":{\"is_active\":";
  out += b.session_active ? "true" : "false";
  out += ",\"started_at\":";
  append_time(out, b.started_at);
  out += ",\"ended_at\":";
  append_time(out, b.ended_at);
  out += ",\"duration_seconds\":";
  append_optional_int(out, b.duration_seconds);
  out += ",\"channel\":";
  append_text_or_null(out, b.channel());
  out += ",\"notes\":";
  append_text_or_null(out, b.notes);
  out += "},\"escrow\":";
  append_escrow(out, b);
  out += ",\"rating\":";
  if (b.rating_stars == 0) {
    out += "null";
  } else {
    out += "{\"stars\":";
    json::append_int(out, b.rating_stars);
    out += ",\"comment\":";
    append_text_or_null(out, b.rating_comment);
    out += '}';
  }
  out += ",\"created_at\":";
  append_rfc3339_seconds_json(out, b.created_at);
  out += ",\"version\":";
  json::append_int(out, b.version);
  out += '}';
}

std::string booking_json(const Booking& booking) {
  std::string out;
  out.reserve(900);
  append_booking(out, booking);
  return out;
}

void append_withdrawal(std::string& out, const Withdrawal& w) {
  out += "{\"id\":";
  json::append_string(out, w.id);
  out += ",\"tutor_id\":";
  json::append_string(out, w.tutor_id);
  out += ",\"amount\":";
  append_money(out, w.amount);
  out += ",\"destination\":";
  json::append_string(out, w.destination);
  out += ",\"status\":";
  json::append_string(out, status_name(w.status));
  out += ",\"requested_at\":";
  append_rfc3339_seconds_json(out, w.requested_at);
  out += ",\"completed_at\":";
  append_time(out, w.completed_at);
  if (w.status == WithdrawalStatus::failed) {
    out += ",\"failure_reason\":";
    json::append_string(out, w.failure_reason);
  }
  out += '}';
}

std::string withdrawal_json(const Withdrawal& withdrawal) {
  std::string out;
  append_withdrawal(out, withdrawal);
  return out;
}

void append_notification(std::string& out, const NotificationView& n) {
  out += "{\"id\":";
  json::append_string(out, n.id);
  out += ",\"type\":";
  json::append_string(out, n.type);
  out += ",\"text\":";
  json::append_string(out, n.text);
  out += ",\"booking_id\":";
  append_text_or_null(out, n.booking_id);
  out += ",\"at\":";
  append_rfc3339_seconds_json(out, n.at);
  out += '}';
}

std::string balances_json(const State& state, std::string_view tutor_id) {
  struct Row {
    Currency currency;
    int64_t available = 0;
    int64_t pending_release = 0;
    int64_t withdrawing = 0;
  };
  std::vector<Row> rows;
  auto row_for = [&rows](const Currency& currency) -> Row& {
    auto found = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.currency == currency; });
    if (found != rows.end()) return *found;
    rows.push_back(Row{currency});
    return rows.back();
  };
  if (auto found = state.balances.find(accounts::tutor(tutor_id)); found != state.balances.end()) {
    for (const auto& [currency, amount] : found->second) row_for(currency).available = amount;
  }
  if (auto found = state.balances.find(accounts::tutor_withdrawing(tutor_id)); found != state.balances.end()) {
    for (const auto& [currency, amount] : found->second) row_for(currency).withdrawing = amount;
  }
  if (const Tutor* tutor = state.find_tutor(tutor_id)) {
    for (const auto& [currency, amount] : tutor->pending_release) row_for(currency).pending_release = amount;
  }
  // A currency the tutor has been paid in (or withdrawn) keeps its row when every figure is 0
  // (all withdrawn, or the only escrow disputed): the app shows "ETB 0.00", not an empty list.
  // One pass over the tutor's bookings; rows are few, so row_for's search is short.
  if (auto found = state.bookings_by_tutor.find(tutor_id); found != state.bookings_by_tutor.end()) {
    for (const uint32_t index : found->second) {
      const Booking& booking = state.bookings[index];
      if (booking.escrow_status != EscrowStatus::none) row_for(booking.price.currency);
    }
  }
  if (auto found = state.withdrawals_by_tutor.find(tutor_id); found != state.withdrawals_by_tutor.end()) {
    for (const uint32_t index : found->second) row_for(state.withdrawals[index].amount.currency);
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.currency < b.currency; });
  std::string out = "{\"balances\":[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"currency\":";
    json::append_string(out, rows[i].currency.code());
    out += ",\"available\":";
    json::append_int(out, rows[i].available);
    out += ",\"pending_release\":";
    json::append_int(out, rows[i].pending_release);
    out += ",\"withdrawing\":";
    json::append_int(out, rows[i].withdrawing);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string session_status_json(const Booking& b, const Policy& policy, TimeMs now) {
  const TimeMs opens = start_window_opens_at(b, policy);
  const TimeMs closes = start_window_closes_at(b, policy);
  const bool in_window = now >= opens && now < closes;
  const bool can_start_now = (b.status == BookingStatus::confirmed && in_window) ||
                             (b.status == BookingStatus::in_session && now < auto_end_at(b, policy));
  std::string out = "{\"booking_id\":";
  json::append_string(out, b.id);
  out += ",\"booking_status\":";
  json::append_string(out, status_name(b.status));
  out += ",\"server_time\":";
  append_rfc3339_seconds_json(out, now);
  out += ",\"scheduled_start\":";
  append_rfc3339_seconds_json(out, b.scheduled_start);
  out += ",\"scheduled_end\":";
  append_rfc3339_seconds_json(out, b.scheduled_end());
  out += ",\"can_start_from\":";
  append_rfc3339_seconds_json(out, opens);
  out += ",\"can_start_until\":";
  append_rfc3339_seconds_json(out, closes);
  out += ",\"can_start_now\":";
  out += can_start_now ? "true" : "false";
  out += ",\"is_active\":";
  out += b.session_active ? "true" : "false";
  out += ",\"started_at\":";
  append_time(out, b.started_at);
  out += ",\"ended_at\":";
  append_time(out, b.ended_at);
  out += ",\"seconds_remaining\":";
  if (b.session_active) {
    json::append_int(out, std::max<TimeMs>(0, b.scheduled_end() - now) / ms_per_second);
  } else {
    out += "null";
  }
  out += ",\"escrow\":";
  append_escrow(out, b);
  out += '}';
  return out;
}

void append_event(std::string& out, const EventFields& e) {
  out += "{\"position\":";
  json::append_int(out, static_cast<int64_t>(e.position));
  out += ",\"stream\":";
  json::append_string(out, e.stream);
  out += ",\"version\":";
  json::append_int(out, e.version);
  out += ",\"type\":";
  json::append_string(out, e.type);
  out += ",\"at\":";
  append_rfc3339_seconds_json(out, e.at);
  out += ",\"actor\":";
  json::append_string(out, e.actor);
  out += ",\"data\":";
  out += e.data;
  out += ",\"hash\":";
  json::append_string(out, e.hash_hex);
  out += '}';
}

}  // namespace tl::views
