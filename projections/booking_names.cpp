#include "projections/booking_names.h"

namespace tl {
namespace {

bool is_prefixed(std::string_view name, std::string_view prefix, std::string_view booking_id) {
  return name.size() == prefix.size() + booking_id.size() && name.starts_with(prefix) && name.ends_with(booking_id);
}

}  // namespace

std::string session_channel(std::string_view booking_id) {
  std::string name(channel_prefix);
  name += booking_id;
  return name;
}

std::string checkout_tx_ref(std::string_view booking_id) {
  std::string name(tx_ref_prefix);
  name += booking_id;
  return name;
}

bool is_session_channel(std::string_view name, std::string_view booking_id) {
  return is_prefixed(name, channel_prefix, booking_id);
}

bool is_checkout_tx_ref(std::string_view name, std::string_view booking_id) {
  return is_prefixed(name, tx_ref_prefix, booking_id);
}

}  // namespace tl
