#pragma once
// A hash map from std::string keys to values, for the state's maps keyed by user id, account
// name or payment reference (a million entries and more after a long log).
//
// Entries live in a std::deque (stable addresses: a reference or a pointer to an entry stays
// valid until that entry is erased, as with std::unordered_map) and a flat open-addressing table
// of 8-byte slots finds them: the key's 32-bit hash and the entry's index. A look-up reads one
// slot (usually in one cache line) and then the entry; std::unordered_map read a bucket, the node
// before the first of the bucket, and the node, each a cache miss in a large map, and took a
// 64-byte node plus a bucket per entry.
//
// Erasing leaves the entry's place empty (its key cleared, its value reset) for the next insert
// to reuse, and removes its slot by shifting later slots of the same run back, so that probes
// never meet tombstones. Iteration visits the live entries in index order; callers that need a
// canonical order sort (state_codec.cpp does). Searches take a std::string_view and do not
// allocate.
#include <bit>
#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tl {

template <class T>
class FlatStringMap {
 public:
  using key_type = std::string;
  using mapped_type = T;
  using value_type = std::pair<std::string, T>;
  using pointer = value_type*;
  using const_pointer = const value_type*;
  // Entries are counted in u32 (as the state counts bookings); a slot stores index + 1, 0 = empty.
  static constexpr size_t entries_max = UINT32_MAX - 1;

  template <bool is_const>
  class Iterator {
   public:
    using Map = std::conditional_t<is_const, const FlatStringMap, FlatStringMap>;
    using iterator_category = std::forward_iterator_tag;
    using value_type = FlatStringMap::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<is_const, const value_type*, value_type*>;
    using reference = std::conditional_t<is_const, const value_type&, value_type&>;

    Iterator() = default;
    Iterator(Map* map, size_t index) : map_(map), index_(index) { skip_dead(); }
    operator Iterator<true>() const { return Iterator<true>(map_, index_); }  // NOLINT: as std's iterators

    reference operator*() const { return map_->entries_[index_]; }
    pointer operator->() const { return &map_->entries_[index_]; }
    Iterator& operator++() {
      ++index_;
      skip_dead();
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }
    size_t index() const { return index_; }

   private:
    void skip_dead() {
      while (map_ != nullptr && index_ < map_->live_.size() && !map_->live_[index_]) ++index_;
    }
    Map* map_ = nullptr;
    size_t index_ = 0;
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, entries_.size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, entries_.size()); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator find(std::string_view key) {
    const size_t slot = find_slot(key);
    return slot == npos ? end() : iterator(this, index_in(slots_[slot]));
  }
  const_iterator find(std::string_view key) const {
    const size_t slot = find_slot(key);
    return slot == npos ? end() : const_iterator(this, index_in(slots_[slot]));
  }
  bool contains(std::string_view key) const { return find_slot(key) != npos; }

  // Inserts (key, T(args...)) unless the key is there; says where the entry is and whether it is new.
  template <class... Args>
  std::pair<iterator, bool> try_emplace(std::string_view key, Args&&... args) {
    const uint32_t hash = hash_of(key);
    if (const size_t slot = find_slot(key, hash); slot != npos) return {iterator(this, index_in(slots_[slot])), false};
    const size_t index = place(std::string(key), T(std::forward<Args>(args)...));
    insert_slot(hash, index);
    return {iterator(this, index), true};
  }
  std::pair<iterator, bool> emplace(std::string key, T value) {
    const uint32_t hash = hash_of(key);
    if (const size_t slot = find_slot(key, hash); slot != npos) return {iterator(this, index_in(slots_[slot])), false};
    const size_t index = place(std::move(key), std::move(value));
    insert_slot(hash, index);
    return {iterator(this, index), true};
  }
  T& operator[](std::string_view key) { return try_emplace(key).first->second; }

  // Removes the entry; other entries keep their addresses.
  void erase(const_iterator position) {
    const size_t index = position.index();
    assert(index < entries_.size() && live_[index]);
    const size_t slot = find_slot(entries_[index].first);
    assert(slot != npos && index_in(slots_[slot]) == index);
    remove_slot(slot);
    entries_[index] = value_type{};
    live_[index] = false;
    free_.push_back(static_cast<uint32_t>(index));
    --size_;
  }

  void clear() {
    entries_.clear();
    live_.clear();
    free_.clear();
    slots_.clear();
    size_ = 0;
  }

  // Bytes held beyond the entries' own heap parts (the deque's blocks, the slots, the bookkeeping).
  uint64_t memory_bytes() const {
    return entries_.size() * sizeof(value_type) + slots_.capacity() * sizeof(uint64_t) + live_.capacity() +
           free_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr size_t npos = SIZE_MAX;

  static uint32_t hash_of(std::string_view key) {
    const uint64_t hash = std::hash<std::string_view>{}(key);
    return static_cast<uint32_t>(hash ^ (hash >> 32));
  }
  static size_t index_in(uint64_t slot) { return static_cast<uint32_t>(slot) - size_t{1}; }
  static uint32_t hash_in(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  size_t mask() const { return slots_.size() - 1; }

  size_t find_slot(std::string_view key) const { return find_slot(key, hash_of(key)); }
  size_t find_slot(std::string_view key, uint32_t hash) const {
    if (slots_.empty()) return npos;
    for (size_t i = hash & mask(); slots_[i] != 0; i = (i + 1) & mask()) {
      if (hash_in(slots_[i]) == hash && entries_[index_in(slots_[i])].first == key) return i;
    }
    return npos;
  }

  // Puts the entry in a free place (or at the end) and says its index.
  size_t place(std::string&& key, T&& value) {
    assert(size_ < entries_max);
    ++size_;
    if (!free_.empty()) {
      const size_t index = free_.back();
      free_.pop_back();
      entries_[index] = value_type(std::move(key), std::move(value));
      live_[index] = true;
      return index;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    live_.push_back(true);
    return entries_.size() - 1;
  }

  void insert_slot(uint32_t hash, size_t index) {
    if (size_ * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);  // load at most 3/4
    size_t i = hash & mask();
    while (slots_[i] != 0) i = (i + 1) & mask();
    slots_[i] = uint64_t{hash} << 32 | (uint64_t{index} + 1);
  }

  // Backward-shift deletion: each later slot of the run moves into the hole unless its home lies
  // cyclically in (hole, slot], where it must stay to remain reachable.
  void remove_slot(size_t hole) {
    for (size_t i = (hole + 1) & mask(); slots_[i] != 0; i = (i + 1) & mask()) {
      const size_t home = hash_in(slots_[i]) & mask();
      const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (stays) continue;
      slots_[hole] = slots_[i];
      hole = i;
    }
    slots_[hole] = 0;
  }

  // The slot's place comes from its stored hash, so growing never reads a key.
  void rehash(size_t slot_count) {
    assert(std::has_single_bit(slot_count));
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(slot_count, 0);
    for (const uint64_t slot : old) {
      if (slot == 0) continue;
      size_t i = hash_in(slot) & mask();
      while (slots_[i] != 0) i = (i + 1) & mask();
      slots_[i] = slot;
    }
  }

  std::deque<value_type> entries_;
  std::vector<bool> live_;       // live_[i]: entries_[i] holds an entry (not erased)
  std::vector<uint32_t> free_;   // indexes of erased entries, reused first
  std::vector<uint64_t> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace tl
