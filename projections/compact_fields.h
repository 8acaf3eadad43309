#pragma once
// Field types that keep a booking small in memory (issue 7: under 1 KiB per booking at a million
// bookings). A std::optional<int64_t> takes 16 bytes and an empty std::string 32; these take 8.
#include <cassert>
#include <compare>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

namespace tl {

// An optional int64 in 8 bytes: `none` (INT64_MIN) stands for "no value". No time, amount or
// duration the domain produces is INT64_MIN; evolve and the state codec refuse one
// (`fits_optional_int64`), so the sentinel never stands for a real value.
class OptionalInt64 {
 public:
  static constexpr int64_t none = std::numeric_limits<int64_t>::min();

  constexpr OptionalInt64() = default;
  constexpr OptionalInt64(std::nullopt_t) {}
  constexpr OptionalInt64(int64_t value) : value_(value) { assert(value != none); }
  constexpr OptionalInt64(const std::optional<int64_t>& value) : value_(value ? *value : none) {
    assert(!value || *value != none);
  }

  constexpr bool has_value() const { return value_ != none; }
  constexpr explicit operator bool() const { return has_value(); }
  constexpr int64_t operator*() const {
    assert(has_value());
    return value_;
  }
  constexpr int64_t value_or(int64_t fallback) const { return has_value() ? value_ : fallback; }
  constexpr std::optional<int64_t> as_optional() const {
    return has_value() ? std::optional<int64_t>(value_) : std::nullopt;
  }

  // Ordered as std::optional is (no value first): the sentinel is the smallest int64.
  friend constexpr auto operator<=>(OptionalInt64, OptionalInt64) = default;
  friend constexpr bool operator==(OptionalInt64, OptionalInt64) = default;
  friend constexpr bool operator==(OptionalInt64 a, int64_t b) { return a.has_value() && a.value_ == b; }

 private:
  int64_t value_ = none;
};

constexpr bool fits_optional_int64(int64_t value) { return value != OptionalInt64::none; }

// A string in 8 bytes: no allocation while empty, else one heap block holding the size and the
// bytes. For texts that are often empty and never edited in place (notes, reasons, comments): a
// std::string takes 32 bytes even when empty, and these texts mostly do not fit its small buffer.
class CompactText {
 public:
  static constexpr size_t text_bytes_max = std::numeric_limits<uint32_t>::max();

  CompactText() = default;
  explicit CompactText(std::string_view text) { assign(text); }
  CompactText(const CompactText& other) { assign(other.view()); }
  CompactText(CompactText&&) noexcept = default;
  CompactText& operator=(const CompactText& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  CompactText& operator=(CompactText&&) noexcept = default;
  CompactText& operator=(std::string_view text) {
    assign(text);
    return *this;
  }
  ~CompactText() = default;

  bool empty() const { return block_ == nullptr; }
  size_t size() const {
    if (!block_) return 0;
    uint32_t size = 0;
    std::memcpy(&size, block_.get(), sizeof size);
    return size;
  }
  std::string_view view() const { return block_ ? std::string_view(block_.get() + sizeof(uint32_t), size()) : std::string_view(); }
  operator std::string_view() const { return view(); }

  friend bool operator==(const CompactText& a, const CompactText& b) { return a.view() == b.view(); }
  friend bool operator==(const CompactText& a, std::string_view b) { return a.view() == b; }

 private:
  void assign(std::string_view text) {
    assert(text.size() <= text_bytes_max);
    if (text.empty()) {
      block_.reset();
      return;
    }
    auto block = std::make_unique_for_overwrite<char[]>(sizeof(uint32_t) + text.size());
    const auto size = static_cast<uint32_t>(text.size());
    std::memcpy(block.get(), &size, sizeof size);
    std::memcpy(block.get() + sizeof size, text.data(), text.size());
    block_ = std::move(block);
  }

  std::unique_ptr<char[]> block_;  // uint32 size (native order), then the bytes; null when empty
};

static_assert(sizeof(OptionalInt64) == 8 && sizeof(CompactText) == 8);

}  // namespace tl
