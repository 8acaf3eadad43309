#include "projections/id_index.h"

#include <algorithm>
#include <bit>

namespace tl {

void IdIndex::reserve(size_t entries) {
  const size_t needed = std::bit_ceil(std::max<size_t>(16, (entries * 4 + 2) / 3));
  if (needed > slots_.size()) rehash(needed);
}

void IdIndex::rehash(size_t slot_count) {
  assert(std::has_single_bit(slot_count) && slot_count * 3 >= size_ * 4);
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(slot_count, 0);
  for (const uint64_t slot : old) {
    if (slot == 0) continue;
    size_t i = static_cast<uint32_t>(slot >> 32) & mask();
    while (slots_[i] != 0) i = (i + 1) & mask();
    slots_[i] = slot;
  }
}

}  // namespace tl
