#pragma once
// SHA-256 over the canonical dump of the projections: equal states, equal hashes.
#include "engine/sha256.h"
#include "projections/state.h"

namespace tl {

Digest state_hash(const State& state);

}  // namespace tl
