#include "projections/event_view.h"

#include <cassert>

#include "projections/json_text.h"
#include "projections/views.h"

namespace tl::views {
namespace {

// Writes one object's fields, turning instants and bare amounts into the contract's shapes.
class HttpFieldWriter {
 public:
  HttpFieldWriter(std::string& out, const std::optional<Currency>& currency, bool inside_posting = false)
      : out_(out), currency_(currency), inside_posting_(inside_posting) {}

  template <class T>
  void operator()(std::string_view name, const T& value) {
    out_.push_back(first_ ? '{' : ',');
    first_ = false;
    json::append_key(out_, name);
    write(name, value);
  }
  void close() { out_ += first_ ? "{}" : "}"; }

 private:
  void write(std::string_view, const std::string& value) { json::append_string(out_, value); }
  void write(std::string_view name, int64_t value) {
    if (is_instant_field(name)) {
      append_rfc3339_seconds_json(out_, value);
    } else if (is_amount_field(name) && currency_ && !inside_posting_) {
      append_money(out_, Money{value, *currency_});
    } else {
      json::append_int(out_, value);
    }
  }
  void write(std::string_view, const Currency& value) { json::append_string(out_, value.code()); }
  void write(std::string_view, const Money& value) { append_money(out_, value); }
  void write(std::string_view, const std::vector<Posting>& postings) {
    out_.push_back('[');
    for (size_t i = 0; i < postings.size(); ++i) {
      if (i > 0) out_.push_back(',');
      HttpFieldWriter nested(out_, currency_, /*inside_posting=*/true);  // {debit, credit, amount, currency}: money-shaped
      Posting::fields(postings[i], nested);
      nested.close();
    }
    out_.push_back(']');
  }

  std::string& out_;
  const std::optional<Currency>& currency_;
  const bool inside_posting_;
  bool first_ = true;
};

bool ends_with(std::string_view text, std::string_view tail) { return text.ends_with(tail); }

}  // namespace

bool is_instant_field(std::string_view name) { return name == "scheduled_start" || ends_with(name, "_at"); }
bool is_amount_field(std::string_view name) { return name == "amount" || ends_with(name, "_amount"); }

bool needs_booking_currency(const EventData& data) {
  bool has_bare_amount = false;
  std::visit(
      [&has_bare_amount](const auto& event) {
        auto check = [&has_bare_amount](std::string_view name, const auto& value) {
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, int64_t>) {
            if (is_amount_field(name)) has_bare_amount = true;
          }
        };
        std::decay_t<decltype(event)>::fields(event, check);
      },
      data);
  return has_bare_amount && postings_of(data).empty();
}

void append_event_data(std::string& out, const EventData& data, const std::optional<Currency>& currency) {
  const std::vector<Posting>& postings = postings_of(data);
  const std::optional<Currency> event_currency = postings.empty() ? currency : std::optional(postings.front().currency);
  assert(event_currency || !needs_booking_currency(data));
  std::visit(
      [&](const auto& event) {
        HttpFieldWriter writer(out, event_currency);
        std::decay_t<decltype(event)>::fields(event, writer);
        writer.close();
      },
      data);
}

}  // namespace tl::views
