// The exact decimal money parser (projections/money.h) and checked arithmetic. The first byte
// picks a currency (2, 0 or 3 minor-unit digits); the rest is the text. Properties: what parses
// formats back to text that parses to the same amount (parse(format(x)) == x); any non-negative
// amount formats to text that parses back to it; checked arithmetic agrees with 128-bit integers.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "projections/money.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  static const char* const codes[] = {"ETB", "JPY", "KWD", "USD"};
  const tl::Currency currency = *tl::Currency::parse(codes[bytes[0] % 4]);
  const std::string_view text(reinterpret_cast<const char*>(bytes + 1), size - 1);
  (void)tl::Currency::parse(text);

  if (const auto amount = tl::parse_decimal_amount(text, currency)) {
    FUZZ_CHECK(*amount >= 0);
    const std::string formatted = tl::format_decimal_amount(*amount, currency);
    FUZZ_CHECK(tl::parse_decimal_amount(formatted, currency) == amount);
    (void)tl::format_money(tl::Money{*amount, currency});
  }

  if (size >= 1 + 2 * sizeof(int64_t)) {
    int64_t a = 0;
    int64_t b = 0;
    std::memcpy(&a, bytes + 1, sizeof a);
    std::memcpy(&b, bytes + 1 + sizeof a, sizeof b);
    const __int128 wide_sum = static_cast<__int128>(a) + b;
    const __int128 wide_difference = static_cast<__int128>(a) - b;
    const __int128 wide_product = static_cast<__int128>(a) * b;
    constexpr __int128 low = std::numeric_limits<int64_t>::min();
    constexpr __int128 high = std::numeric_limits<int64_t>::max();
    auto fits = [&](__int128 value) { return value >= low && value <= high; };
    const auto sum = tl::checked_add(a, b);
    const auto difference = tl::checked_sub(a, b);
    const auto product = tl::checked_mul(a, b);
    FUZZ_CHECK(sum.has_value() == fits(wide_sum) && (!sum || *sum == wide_sum));
    FUZZ_CHECK(difference.has_value() == fits(wide_difference) && (!difference || *difference == wide_difference));
    FUZZ_CHECK(product.has_value() == fits(wide_product) && (!product || *product == wide_product));
    if (a >= 0) {
      const std::string formatted = tl::format_decimal_amount(a, currency);
      FUZZ_CHECK(tl::parse_decimal_amount(formatted, currency) == a);
    }
    const auto fee = tl::fee_of(a, b % 10001);
    if (fee && a >= 0 && b % 10001 >= 0) FUZZ_CHECK(*fee >= 0 && *fee <= a);
  }
  return 0;
}
