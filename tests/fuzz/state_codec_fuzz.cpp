// The state dump loader (projections/state_codec.h), which reads checkpoints back. Properties: a
// dump that loads is refused nowhere after: its state dumps to bytes that load to a state dumping
// to the same bytes (the dump is canonical), and the invariant checker runs on it without harm.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "projections/invariants.h"
#include "projections/state_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);
  tl::State state;
  if (!tl::load_state(input, &state).empty()) return 0;
  (void)tl::check_invariants(state);
  const std::string dumped = tl::dump_state(state);
  tl::State again;
  FUZZ_CHECK(tl::load_state(dumped, &again).empty());
  FUZZ_CHECK(tl::dump_state(again) == dumped);
  FUZZ_CHECK(again.bookings.size() == state.bookings.size() && again.position == state.position);
  return 0;
}
