// The typed event decoder (engine/event_codec.h decode_event_data) for every event type. The first
// byte picks the type, the rest is the `data` JSON. Property: what decodes encodes to canonical
// text that decodes to the same event (encode(decode(encode(decode(x)))) == encode(decode(x))),
// and the hand reader of canonical data agrees with the general JSON decoder on every input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "engine/event_codec.h"
#include "fuzz_check.h"

namespace {

template <size_t... I>
std::string_view type_name_at(size_t index, std::index_sequence<I...>) {
  std::string_view name;
  (void)((index == I ? (name = std::variant_alternative_t<I, tl::EventData>::name, true) : false) || ...);
  return name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  constexpr size_t types = std::variant_size_v<tl::EventData>;
  const std::string_view type = type_name_at(bytes[0] % types, std::make_index_sequence<types>{});
  const std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);

  tl::EventData event;
  tl::EventData by_json;
  const bool decoded = tl::decode_event_data(type, data, &event).is_ok();
  FUZZ_CHECK(decoded == tl::decode_event_data_json(type, data, &by_json).is_ok());
  if (!decoded) return 0;
  FUZZ_CHECK(tl::encode_event_data(by_json) == tl::encode_event_data(event));
  FUZZ_CHECK(tl::event_name(event) == type);
  const std::string encoded = tl::encode_event_data(event);
  tl::EventData again;
  FUZZ_CHECK(tl::decode_event_data(type, encoded, &again).is_ok());
  FUZZ_CHECK(tl::encode_event_data(again) == encoded);
  return 0;
}
