#pragma once
// A hash map from std::string keys to values, for the state's maps keyed by user id, account
// name or payment reference (a million entries and more after a long log).
//
// Entries live in a std::deque (stable addresses: a reference or a pointer to an entry stays
// valid until that entry is erased, as with std::unordered_map) and an IdIndex finds them (its
// 8-byte slots hold the key's 32-bit hash and the entry's index). A look-up reads one slot
// (usually in one cache line) and then the entry; std::unordered_map read a bucket, the node
// before the first of the bucket, and the node, each a cache miss in a large map, and took a
// 64-byte node plus a bucket per entry.
//
// Erasing leaves the entry's place empty (its key cleared, its value reset) for the next insert
// to reuse; the IdIndex removes the slot without leaving a tombstone. Iteration visits the live
// entries in index order; callers that need a canonical order sort (state_codec.cpp does).
// Searches take a std::string_view and do not allocate.
#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/id_index.h"

namespace tl {

template <class T>
class FlatStringMap {
 public:
  using key_type = std::string;
  using mapped_type = T;
  using value_type = std::pair<std::string, T>;
  using pointer = value_type*;
  using const_pointer = const value_type*;
  // Entries are counted in u32, as the IdIndex that finds them.
  static constexpr size_t entries_max = IdIndex::index_max;

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

  size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.size() == 0; }

  iterator find(std::string_view key) {
    const auto index = slots_.find(key, key_at());
    return index ? iterator(this, *index) : end();
  }
  const_iterator find(std::string_view key) const {
    const auto index = slots_.find(key, key_at());
    return index ? const_iterator(this, *index) : end();
  }
  bool contains(std::string_view key) const { return slots_.find(key, key_at()).has_value(); }

  // Inserts (key, T(args...)) unless the key is there; says where the entry is and whether it is new.
  template <class... Args>
  std::pair<iterator, bool> try_emplace(std::string_view key, Args&&... args) {
    return emplace_with(key, [&] { return value_type(std::string(key), T(std::forward<Args>(args)...)); });
  }
  std::pair<iterator, bool> emplace(std::string key, T value) {
    return emplace_with(key, [&] { return value_type(std::move(key), std::move(value)); });
  }
  T& operator[](std::string_view key) { return try_emplace(key).first->second; }

  // Removes the entry; other entries keep their addresses.
  void erase(const_iterator position) {
    const size_t index = position.index();
    assert(index < entries_.size() && live_[index]);
    slots_.erase(entries_[index].first, key_at());
    entries_[index] = value_type{};
    live_[index] = false;
    free_.push_back(static_cast<uint32_t>(index));
  }

  void clear() {
    entries_.clear();
    live_.clear();
    free_.clear();
    slots_.clear();
  }

  // Bytes held beyond the entries' own heap parts (the deque's blocks, the slots, the bookkeeping).
  uint64_t memory_bytes() const {
    return entries_.size() * sizeof(value_type) + slots_.memory_bytes() + live_.capacity() +
           free_.capacity() * sizeof(uint32_t);
  }

 private:
  // How the IdIndex reads the key of entry i.
  auto key_at() const {
    return [this](uint32_t index) -> std::string_view { return entries_[index].first; };
  }

  // The one body of try_emplace and emplace: `make_entry` runs only when the key is new.
  template <class MakeEntry>
  std::pair<iterator, bool> emplace_with(std::string_view key, const MakeEntry& make_entry) {
    const uint32_t hash = IdIndex::hash_of(key);
    if (const auto index = slots_.find(key, hash, key_at())) return {iterator(this, *index), false};
    const uint32_t index = place(make_entry());
    slots_.insert_absent(hash, index);
    return {iterator(this, index), true};
  }

  // Puts the entry in a free place (or at the end) and says its index.
  uint32_t place(value_type&& entry) {
    assert(slots_.size() < entries_max);
    if (!free_.empty()) {
      const uint32_t index = free_.back();
      free_.pop_back();
      entries_[index] = std::move(entry);
      live_[index] = true;
      return index;
    }
    entries_.push_back(std::move(entry));
    live_.push_back(true);
    return static_cast<uint32_t>(entries_.size() - 1);
  }

  std::deque<value_type> entries_;
  std::vector<bool> live_;       // live_[i]: entries_[i] holds an entry (not erased)
  std::vector<uint32_t> free_;   // indexes of erased entries, reused first
  IdIndex slots_;                // key -> index in entries_; counts the live entries
};

}  // namespace tl
