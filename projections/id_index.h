#pragma once
// Finds records by their string id without storing the ids a second time: a flat open-addressing
// table of 8-byte slots, each the id's 32-bit hash and the record's index in the caller's
// container. A look-up reads one slot (usually within one cache line) and then the record itself,
// which the caller reads next anyway; std::unordered_map read a list node and a bucket on top, at
// 56 bytes per entry instead of 11-21 here. The state's booking and withdrawal indexes use it
// directly; FlatStringMap keeps its slots in one.
//
// The caller says where the ids are (`id_of(index)`), so the table never holds a view that a
// move could leave dangling. Erasing shifts the later slots of the run back (no tombstones), so
// probes stay as short as if the id had never been there.
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

  // The hash the table files `id` under; callers that find and then insert compute it once.
  static uint32_t hash_of(std::string_view id) {
    const uint64_t hash = std::hash<std::string_view>{}(id);
    return static_cast<uint32_t>(hash ^ (hash >> 32));
  }

  template <class IdOf>
  std::optional<uint32_t> find(std::string_view id, const IdOf& id_of) const {
    return find(id, hash_of(id), id_of);
  }
  template <class IdOf>
  std::optional<uint32_t> find(std::string_view id, uint32_t hash, const IdOf& id_of) const {
    const size_t slot = find_slot(id, hash, id_of);
    if (slot == npos) return std::nullopt;
    return index_in(slots_[slot]);
  }

  // Adds `id` at `index`; false (and nothing changes) when the id is already there.
  template <class IdOf>
  bool insert(std::string_view id, uint32_t index, const IdOf& id_of) {
    const uint32_t hash = hash_of(id);
    if (find_slot(id, hash, id_of) != npos) return false;
    insert_absent(hash, index);
    return true;
  }
  // Adds an id the caller has just looked for (`hash` = hash_of(id)) and not found.
  void insert_absent(uint32_t hash, uint32_t index);

  // Removes `id`, which must be there.
  template <class IdOf>
  void erase(std::string_view id, const IdOf& id_of) {
    const size_t slot = find_slot(id, hash_of(id), id_of);
    assert(slot != npos);
    remove_slot(slot);
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
  static constexpr size_t npos = SIZE_MAX;
  static uint32_t index_in(uint64_t slot) { return static_cast<uint32_t>(slot) - 1; }
  static uint32_t hash_in(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  size_t mask() const { return slots_.size() - 1; }

  template <class IdOf>
  size_t find_slot(std::string_view id, uint32_t hash, const IdOf& id_of) const {
    if (slots_.empty()) return npos;
    for (size_t i = hash & mask(); slots_[i] != 0; i = (i + 1) & mask()) {
      if (hash_in(slots_[i]) == hash && id_of(index_in(slots_[i])) == id) return i;
    }
    return npos;
  }
  void remove_slot(size_t hole);
  // The slot index comes from the stored hash, so moving to a larger table never reads an id.
  void rehash(size_t slot_count);

  std::vector<uint64_t> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace tl
