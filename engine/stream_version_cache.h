#pragma once
// The current version of recently used streams, so that append() checks expected versions
// without a RocksDB seek per stream. Bounded: two generations of at most entries_max / 2 each;
// when the young one fills up it becomes the old one and the old one is dropped (a cheap
// approximation of LRU that keeps every operation O(1)). A miss is answered from the `s` keys.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "projections/flat_string_map.h"

namespace tl {

class StreamVersionCache {
 public:
  explicit StreamVersionCache(size_t entries_max);

  std::optional<uint32_t> find(std::string_view stream) const;

  // For the writer: the version, and where it lives when the entry is young. The slot stays
  // valid until the next put() (which may rotate the generations), so a caller that writes
  // through slots must do so before its puts.
  struct Found {
    std::optional<uint32_t> version;
    uint32_t* young_slot = nullptr;
  };
  Found find_for_update(std::string_view stream);
  // Records the version of `stream` (and makes it young again).
  void put(std::string_view stream, uint32_t version);
  void clear();

  size_t size() const { return young_.size() + old_.size(); }
  size_t entries_max() const { return entries_max_; }

 private:
  // Flat tables: a look-up reads a slot and the entry, not a bucket and two list nodes (the
  // writer looks up every stream of every batch here).
  using Map = FlatStringMap<uint32_t>;

  size_t entries_max_;
  Map young_;
  Map old_;
};

}  // namespace tl
