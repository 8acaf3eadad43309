#pragma once
// decide(state, command, policy) → events | rejection. Pure: no I/O, no clock (time is
// command.now), no mutation. The writer appends the events, then evolves the state with them.
#include <array>
#include <string>
#include <vector>

#include "engine/commands.h"
#include "engine/rejection.h"
#include "projections/booking_names.h"  // session_channel, checkout_tx_ref
#include "projections/events.h"
#include "projections/policy.h"
#include "projections/state.h"

namespace tl {

struct Decision {
  Rejection rejection = Rejection::none;
  std::string message;            // for humans: names the field, or the state that refused
  std::string stream;             // where the events go
  uint32_t expected_version = 0;  // the stream's version now (0: the stream must not exist)
  // Empty without a rejection means "nothing to do": a timer that found nothing due, a repeat
  // payment delivery, a second checkout.
  std::vector<EventData> events;

  bool rejected() const { return rejection != Rejection::none; }
};

Decision decide(const State& state, const Command& command, const Policy& policy);

// The parts of the state a command reads to decide and writes when applied: its booking, the
// tutor whose balance it reads or credits, its withdrawal, its payment reference. Two commands
// without a common key can be decided against the same state in one batch and give the result
// of deciding them one after the other; the writer starts a new batch at the first command that
// shares a key. Keys are 64-bit hashes of ("b", id), ("t", id), ...: a collision only ends a
// batch early, which is always safe.
struct ConflictKeys {
  static constexpr size_t keys_max = 3;
  std::array<uint64_t, keys_max> keys{};
  size_t count = 0;
  void add(char kind, std::string_view id);
};
ConflictKeys conflict_keys(const State& state, const Command& command);

}  // namespace tl
