#pragma once
// Money in integer minor units of an ISO 4217 currency. No floating point anywhere: amounts are
// int64 minor units, arithmetic is checked, decimal text is parsed exactly by the currency's
// minor-unit exponent (ETB 2, JPY 0, KWD 3).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

// A currency code known to ISO 4217 (three upper-case letters), with its minor-unit exponent.
class Currency {
 public:
  Currency() = default;
  // Only codes in the ISO 4217 table are accepted; anything else is nullopt.
  static std::optional<Currency> parse(std::string_view code);
  std::string_view code() const { return {code_.data(), code_.size()}; }
  int minor_unit_digits() const { return minor_unit_digits_; }
  bool valid() const { return code_[0] != 0; }
  friend bool operator==(const Currency& a, const Currency& b) { return a.code_ == b.code_; }
  friend auto operator<=>(const Currency& a, const Currency& b) { return a.code_ <=> b.code_; }

 private:
  std::array<char, 3> code_{};
  int minor_unit_digits_ = 0;
};

struct Money {
  int64_t amount = 0;  // minor units
  Currency currency;
  friend bool operator==(const Money&, const Money&) = default;
};

// Checked integer arithmetic: nullopt on overflow, never wraps.
std::optional<int64_t> checked_add(int64_t a, int64_t b);
std::optional<int64_t> checked_sub(int64_t a, int64_t b);
std::optional<int64_t> checked_mul(int64_t a, int64_t b);

// Same-currency money arithmetic: nullopt on overflow or currency mismatch.
std::optional<Money> add(const Money& a, const Money& b);
std::optional<Money> subtract(const Money& a, const Money& b);

// Fee in basis points of `amount`, rounded down to the minor unit; nullopt on overflow.
std::optional<int64_t> fee_of(int64_t amount, int64_t fee_bps);

// Parses a non-negative decimal string such as "350.00" into minor units of `currency`.
// At most the currency's exponent of significant fraction digits (trailing zeros beyond it are
// exact and accepted); no sign, no exponent, no spaces; nullopt when not exact or on overflow.
std::optional<int64_t> parse_decimal_amount(std::string_view text, const Currency& currency);

// "297.50" for 29750 ETB, "350" for 350 JPY, "-1.005" for -1005 KWD.
std::string format_decimal_amount(int64_t amount, const Currency& currency);
// "ETB 297.50": the form used in notification texts.
std::string format_money(const Money& money);

}  // namespace tl
