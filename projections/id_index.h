#pragma once
// Maps the ids of records kept in log order (bookings, withdrawals) to their indexes in the state's
// deques, without storing the ids a second time: a flat open-addressing table of 8-byte slots,
// each the id's 32-bit hash and the index. A look-up reads one slot (usually within one cache line) and then
// the record itself, which the caller reads next anyway; std::unordered_map read a list node and
// a bucket on top, at 56 bytes per entry instead of 11-21 here.
//
// The caller says where the ids are (`id_of(index)`), so the table never holds a view that a
// move could leave dangling. Entries are only added, never removed (the log only grows); clear()
// empties the table.
#include <cassert>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace tl {

class IdIndex {
 public:
  // Indexes are u32 (the state counts records in u32); a slot stores index + 1, 0 = empty.
  static constexpr uint32_t index_max = UINT32_MAX - 1;

  template <class IdOf>
  std::optional<uint32_t> find(std::string_view id, const IdOf& id_of) const {
    if (slots_.empty()) return std::nullopt;
    const uint32_t hash = hash_of(id);
    for (size_t i = hash & mask(); slots_[i] != 0; i = (i + 1) & mask()) {
      const uint64_t slot = slots_[i];
      const auto index = static_cast<uint32_t>(slot) - 1;
      if (static_cast<uint32_t>(slot >> 32) == hash && id_of(index) == id) return index;
    }
    return std::nullopt;
  }

  // Adds `id` at `index`; false (and nothing changes) when the id is already there.
  template <class IdOf>
  bool insert(std::string_view id, uint32_t index, const IdOf& id_of) {
    assert(index <= index_max);
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();  // load factor at most 3/4: short probes
    const uint32_t hash = hash_of(id);
    size_t i = hash & mask();
    for (; slots_[i] != 0; i = (i + 1) & mask()) {
      const uint64_t slot = slots_[i];
      if (static_cast<uint32_t>(slot >> 32) == hash && id_of(static_cast<uint32_t>(slot) - 1) == id) return false;
    }
    slots_[i] = uint64_t{hash} << 32 | (uint64_t{index} + 1);
    ++size_;
    return true;
  }

  size_t size() const { return size_; }
  void clear() {
    slots_.clear();
    size_ = 0;
  }
  // Room for `entries` without growing.
  void reserve(size_t entries);
  uint64_t memory_bytes() const { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static uint32_t hash_of(std::string_view id) {
    const uint64_t hash = std::hash<std::string_view>{}(id);
    return static_cast<uint32_t>(hash ^ (hash >> 32));
  }
  size_t mask() const { return slots_.size() - 1; }
  void grow() { rehash(slots_.empty() ? 16 : slots_.size() * 2); }
  // The slot index comes from the stored hash, so moving to a larger table never reads an id.
  void rehash(size_t slot_count);

  std::vector<uint64_t> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace tl
