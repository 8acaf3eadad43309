#pragma once
// The conflict keys of the commands taken into one batch (Engine::Writer::take_batch): a set of
// 64-bit keys with open addressing in one array that lives as long as the writer, emptied between
// batches by a generation stamp. A std::unordered_set allocated a node per key, and a new set per
// batch: a few percent of the writer's time under POST /api/bookings.
#include <cassert>
#include <cstdint>
#include <vector>

namespace tl {

class ConflictKeySet {
 public:
  // Room for `keys_max` keys per batch; the table has at least twice as many slots.
  explicit ConflictKeySet(size_t keys_max) : keys_max_(keys_max) {
    size_t slots = 16;
    while (slots < 2 * keys_max) slots *= 2;
    slots_.resize(slots);
    mask_ = slots - 1;
  }

  void clear() {
    size_ = 0;
    if (++generation_ == 0) {  // after 2^32 batches: the old stamps could match again
      for (Slot& slot : slots_) slot.generation = 0;
      generation_ = 1;
    }
  }

  bool contains(uint64_t key) const {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.generation != generation_) return false;
      if (slot.key == key) return true;
    }
  }

  void insert(uint64_t key) {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.generation != generation_) {
        assert(size_ < keys_max_ && "more conflict keys than one batch can hold");
        slot = Slot{key, generation_};
        ++size_;
        return;
      }
      if (slot.key == key) return;
    }
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t generation = 0;  // the slot is taken in the current batch when this equals generation_
  };
  // Keys are hashes already, but of few distinct shapes; the multiply spreads their low bits.
  size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t keys_max_ = 0;
  size_t size_ = 0;
  uint32_t generation_ = 1;
};

}  // namespace tl
