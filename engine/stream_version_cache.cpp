#include "engine/stream_version_cache.h"

#include <cassert>

namespace tl {

StreamVersionCache::StreamVersionCache(size_t entries_max) : entries_max_(entries_max) {
  assert(entries_max >= 2);
}

std::optional<uint32_t> StreamVersionCache::find(std::string_view stream) const {
  if (auto it = young_.find(stream); it != young_.end()) return it->second;
  if (auto it = old_.find(stream); it != old_.end()) return it->second;
  return std::nullopt;
}

StreamVersionCache::Found StreamVersionCache::find_for_update(std::string_view stream) {
  if (auto it = young_.find(stream); it != young_.end()) return Found{it->second, &it->second};
  if (auto it = old_.find(stream); it != old_.end()) return Found{it->second, nullptr};
  return Found{};
}

void StreamVersionCache::put(std::string_view stream, uint32_t version) {
  if (auto it = young_.find(stream); it != young_.end()) {
    it->second = version;
    return;
  }
  if (auto it = old_.find(stream); it != old_.end()) old_.erase(it);
  if (young_.size() >= entries_max_ / 2) {
    old_ = std::move(young_);
    young_ = Map{};
  }
  young_.emplace(std::string(stream), version);
  assert(size() <= entries_max_);
}

void StreamVersionCache::clear() {
  young_.clear();
  old_.clear();
}

}  // namespace tl
