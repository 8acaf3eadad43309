#pragma once
// A growable array of u32 node indices for the timing wheel's buckets, kept with malloc and
// realloc rather than std::vector. A vector grows by allocating anew and copying; realloc can grow
// in place, and glibc moves a large block (one of its own mappings) with mremap, which moves page
// table entries instead of bytes. At 10M timers a few buckets hold a million indices each, and
// their growth copies were about a tenth of the wheel's schedule time (bench/ANALYSIS.md).
//
// Only what the wheel needs: push_back, truncate, clear, indexing, iteration, swap, and an
// explicit capacity change. Allocation failure throws std::bad_alloc, as std::vector would.
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

namespace tl {

class IndexArray {
 public:
  // Room for this many indices at the first push: small buckets stay one cache line.
  static constexpr uint32_t initial_capacity = 16;

  IndexArray() = default;
  IndexArray(const IndexArray&) = delete;
  IndexArray& operator=(const IndexArray&) = delete;
  IndexArray(IndexArray&& other) noexcept { swap(other); }
  IndexArray& operator=(IndexArray&& other) noexcept {
    IndexArray moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~IndexArray() { std::free(data_); }

  void push_back(uint32_t index) {
    if (size_ == capacity_) set_capacity(capacity_ == 0 ? initial_capacity : grown_capacity());
    data_[size_++] = index;
  }
  // Keeps the first `size` indices (size <= size()).
  void truncate(uint32_t size) {
    assert(size <= size_);
    size_ = size;
  }
  void clear() { size_ = 0; }

  // Reallocates to exactly `capacity` (>= size()); 0 frees the memory.
  void set_capacity(uint32_t capacity) {
    assert(capacity >= size_);
    if (capacity == 0) {
      std::free(data_);
      data_ = nullptr;
    } else {
      void* moved = std::realloc(data_, size_t{capacity} * sizeof(uint32_t));
      if (moved == nullptr) throw std::bad_alloc();
      data_ = static_cast<uint32_t*>(moved);
    }
    capacity_ = capacity;
  }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t capacity() const { return capacity_; }
  uint32_t& operator[](uint32_t i) {
    assert(i < size_);
    return data_[i];
  }
  uint32_t operator[](uint32_t i) const {
    assert(i < size_);
    return data_[i];
  }
  uint32_t* begin() { return data_; }
  uint32_t* end() { return data_ + size_; }
  const uint32_t* begin() const { return data_; }
  const uint32_t* end() const { return data_ + size_; }

  void swap(IndexArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  // Doubles, up to the largest u32 (a bucket never holds more indices than the wheel has nodes,
  // and node indices are u32 below UINT32_MAX).
  uint32_t grown_capacity() const {
    assert(capacity_ < UINT32_MAX);
    return capacity_ > UINT32_MAX / 2 ? UINT32_MAX : capacity_ * 2;
  }

  uint32_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace tl
