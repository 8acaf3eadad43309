#pragma once
// An order-independent digest of (stream, version, position) triples: verify() adds every event
// once while walking `e` keys and every index entry once while walking `s` keys; equal digests
// mean the index and the events agree without holding either in memory. The seed is random per
// verify() run, so nobody can craft an index that collides on purpose.
#include <cstdint>
#include <string_view>

namespace tl {

class IndexDigest {
 public:
  explicit IndexDigest(uint64_t seed) : seed_(seed) {}

  void add(std::string_view stream, uint32_t version, uint64_t position) {
    uint64_t h = seed_ ^ 0xcbf29ce484222325ull;
    for (const char c : stream) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    h = mix(h ^ mix(version + 0x9e3779b97f4a7c15ull));
    h = mix(h ^ mix(position + 0xc2b2ae3d27d4eb4full));
    sum_ += h;
    mixed_sum_ += mix(h ^ seed_);
    ++count_;
  }

  bool operator==(const IndexDigest&) const = default;
  uint64_t count() const { return count_; }
  uint64_t seed() const { return seed_; }

 private:
  // splitmix64's finaliser: a fast bijective mixer.
  static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

  uint64_t seed_;
  uint64_t sum_ = 0;
  uint64_t mixed_sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace tl
