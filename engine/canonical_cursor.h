#pragma once
// A cursor over JSON text in the one canonical form this codebase writes (engine/FORMAT.md): no
// whitespace, integers in their shortest decimal form, strings that need no escaping. The hand
// readers of records and of event data use it on the replay hot path; every method answers
// false for anything else, and the caller then falls back to a general JSON parser.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tl {

// More digits than this may not fit in 64 bits; such numbers are left to the general parser.
constexpr size_t canonical_number_digits_max = 18;

class CanonicalCursor {
 public:
  CanonicalCursor(const char* begin, const char* end) : at_(begin), end_(end) {}
  explicit CanonicalCursor(std::string_view text) : CanonicalCursor(text.data(), text.data() + text.size()) {}

  const char* at() const { return at_; }
  bool at_end() const { return at_ == end_; }
  size_t left() const { return static_cast<size_t>(end_ - at_); }
  void skip(size_t bytes) { at_ += bytes; }

  bool peek(char expected) const { return at_ != end_ && *at_ == expected; }
  bool take(char expected) {
    if (!peek(expected)) return false;
    ++at_;
    return true;
  }

  bool literal(std::string_view expected) {
    if (left() < expected.size() || std::memcmp(at_, expected.data(), expected.size()) != 0) return false;
    at_ += expected.size();
    return true;
  }

  // Decimal digits in their one canonical form: "0", or no leading zero.
  bool natural(uint64_t* value) {
    if (!digit_here()) return false;
    if (*at_ == '0') {
      ++at_;
      *value = 0;
      return !digit_here();
    }
    uint64_t result = 0;
    const char* const first = at_;
    while (digit_here()) {
      if (static_cast<size_t>(at_ - first) == canonical_number_digits_max) return false;
      result = result * 10 + static_cast<uint64_t>(*at_ - '0');
      ++at_;
    }
    *value = result;
    return true;
  }

  bool integer(int64_t* value) {
    const bool negative = take('-');
    uint64_t magnitude = 0;
    if (!natural(&magnitude) || (negative && magnitude == 0)) return false;  // "-0" is never written
    // 18 digits always fit in int64_t.
    *value = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
    return true;
  }

  // The characters of a string up to its closing quote (the opening one already taken), when
  // they need no escaping: no backslash, no control character. UTF-8 is the caller's to check.
  bool plain_text(std::string_view* text) {
    const char* const first = at_;
    while (at_ != end_ && *at_ != '"') {
      const auto byte = static_cast<unsigned char>(*at_);
      if (byte < 0x20 || byte == '\\') return false;
      ++at_;
    }
    if (at_ == end_) return false;
    *text = std::string_view(first, static_cast<size_t>(at_ - first));
    ++at_;  // the closing quote
    return true;
  }
  bool plain_text(std::string* out) {
    std::string_view text;
    if (!plain_text(&text)) return false;
    out->assign(text);
    return true;
  }

 private:
  bool digit_here() const { return at_ != end_ && *at_ >= '0' && *at_ <= '9'; }

  const char* at_;
  const char* end_;
};

}  // namespace tl
