#include "replay/state_replay.h"

#include <cassert>

#include <fmt/format.h>

#include "projections/evolve.h"
#include "projections/invariants.h"

namespace tl::replay {

Finding StateReplay::end_command() {
  assert(watch_.in_command());
  const std::string command_id = watch_.command_id();
  ++commands_checked_;
  if (std::string problem = watch_.end_command(state_); !problem.empty()) {
    return Finding{state_.position, fmt::format("after command {}: {}", command_id, problem)};
  }
  return Finding::none();
}

Finding StateReplay::apply(const Event& event) {
  if (watch_invariants_) {
    if (watch_.in_command() && watch_.starts_new_command(event)) {
      if (Finding finding = end_command(); finding.found()) return finding;
    }
    if (std::string problem = watch_.before_event(state_, event); !problem.empty()) {
      return Finding{event.position, std::move(problem)};
    }
  }
  if (std::string problem = evolve(state_, event); !problem.empty()) return Finding{event.position, std::move(problem)};
  if (watch_invariants_) {
    if (std::string problem = watch_.after_event(state_, event); !problem.empty()) {
      return Finding{event.position, std::move(problem)};
    }
  }
  assert(state_.position == event.position);
  return Finding::none();
}

Finding StateReplay::finish() {
  if (watch_invariants_ && watch_.in_command()) {
    if (Finding finding = end_command(); finding.found()) return finding;
  }
  if (std::string violation = check_invariants(state_); !violation.empty()) {
    return Finding{std::max<uint64_t>(state_.position, 1), "after the last event: " + violation};
  }
  return Finding::none();
}

}  // namespace tl::replay
