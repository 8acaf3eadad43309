#include "projections/id_index.h"

#include <algorithm>
#include <bit>

namespace tl {

void IdIndex::insert_absent(uint32_t hash, uint32_t index) {
  assert(index <= index_max);
  if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);  // load at most 3/4
  size_t i = hash & mask();
  while (slots_[i] != 0) i = (i + 1) & mask();
  slots_[i] = uint64_t{hash} << 32 | (uint64_t{index} + 1);
  ++size_;
}

// Backward-shift deletion: each later slot of the run moves into the hole unless its home lies
// cyclically in (hole, slot], where it must stay to remain reachable.
void IdIndex::remove_slot(size_t hole) {
  assert(size_ > 0 && slots_[hole] != 0);
  for (size_t i = (hole + 1) & mask(); slots_[i] != 0; i = (i + 1) & mask()) {
    const size_t home = hash_in(slots_[i]) & mask();
    const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    hole = i;
  }
  slots_[hole] = 0;
  --size_;
}

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
    size_t i = hash_in(slot) & mask();
    while (slots_[i] != 0) i = (i + 1) & mask();
    slots_[i] = slot;
  }
}

}  // namespace tl
