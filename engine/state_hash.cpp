#include "engine/state_hash.h"

#include "projections/state_codec.h"

namespace tl {

Digest state_hash(const State& state) {
  Sha256 hasher;
  write_state(state, [&hasher](std::string_view piece) { hasher.update(piece); });
  return hasher.finish();
}

}  // namespace tl
