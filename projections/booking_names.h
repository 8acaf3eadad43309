#pragma once
// Names derived from a booking's id: its checkout's payment reference and its video channel.
// decide() puts them in the events; the projections derive them again instead of storing them.
#include <string>
#include <string_view>

namespace tl {

constexpr std::string_view tx_ref_prefix = "tx-";
constexpr std::string_view channel_prefix = "tl-";

// The channel name of a booking's video session: derived, stable.
std::string session_channel(std::string_view booking_id);
// The payment reference (tx_ref) the checkout of a booking hands to the payment provider.
std::string checkout_tx_ref(std::string_view booking_id);

// Whether `name` is what the functions above give for `booking_id` (without building it).
bool is_session_channel(std::string_view name, std::string_view booking_id);
bool is_checkout_tx_ref(std::string_view name, std::string_view booking_id);

}  // namespace tl
