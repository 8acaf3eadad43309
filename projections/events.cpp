#include "projections/events.h"

#include <cassert>

namespace tl {

std::string_view event_name(const EventData& data) {
  return std::visit([](const auto& event) { return std::decay_t<decltype(event)>::name; }, data);
}

std::string snake_case(std::string_view name) {
  std::string text;
  text.reserve(name.size() + 4);
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      if (!text.empty()) text.push_back('_');
      text.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      text.push_back(c);
    }
  }
  return text;
}

const std::vector<Posting>& postings_of(const EventData& data) {
  static const std::vector<Posting> none;
  return std::visit(
      [](const auto& event) -> const std::vector<Posting>& {
        if constexpr (requires { event.postings; }) {
          return event.postings;
        } else {
          return none;
        }
      },
      data);
}

std::string_view booking_id_of(const EventData& data) {
  return std::visit(
      [](const auto& event) -> std::string_view {
        if constexpr (requires { event.booking_id; }) {
          return event.booking_id;
        } else {
          return {};
        }
      },
      data);
}

std::string_view withdrawal_id_of(const EventData& data) {
  return std::visit(
      [](const auto& event) -> std::string_view {
        if constexpr (requires { event.withdrawal_id; }) {
          return event.withdrawal_id;
        } else {
          return {};
        }
      },
      data);
}

std::string booking_stream(std::string_view booking_id) {
  assert(!booking_id.empty());
  return "booking-" + std::string(booking_id);
}

std::string tutor_stream(std::string_view tutor_id) {
  assert(!tutor_id.empty());
  return "tutor-" + std::string(tutor_id);
}

namespace accounts {

std::string escrow(std::string_view booking_id) { return "escrow:" + std::string(booking_id); }
std::string tutor(std::string_view tutor_id) { return "tutor:" + std::string(tutor_id); }
std::string tutor_withdrawing(std::string_view tutor_id) { return "tutor:" + std::string(tutor_id) + ":withdrawing"; }

bool must_not_go_negative(std::string_view account) {
  return account.starts_with("tutor:") || account.starts_with("escrow:");
}

}  // namespace accounts
}  // namespace tl
