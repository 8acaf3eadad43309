#include "projections/money.h"

#include <algorithm>
#include <cassert>

namespace tl {
namespace {

struct CurrencyEntry {
  std::string_view code;
  int digits;
};

// ISO 4217 list one: the current codes, funds codes included (CLF and UYW have four minor
// digits), with their minor-unit exponent. Codes without a minor unit (the precious metals XAU,
// XDR, XXX) are not money a tutor can be paid in and are left out. A code once in this table
// stays when ISO withdraws it (ANG, ZWL), so that a log that used it still reads.
constexpr CurrencyEntry currency_table[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2},
    {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
    {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0},
    {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
    {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2},
    {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2},
    {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
    {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2},
    {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2},
    {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2},
    {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
    {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2},
    {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
};

constexpr bool table_is_sorted() {
  for (size_t i = 1; i < std::size(currency_table); ++i) {
    if (!(currency_table[i - 1].code < currency_table[i].code)) return false;
  }
  return true;
}
static_assert(table_is_sorted(), "currency_table must stay sorted for binary search");

}  // namespace

std::optional<Currency> Currency::parse(std::string_view code) {
  if (code.size() != 3) return std::nullopt;
  const auto* end = std::end(currency_table);
  const auto* found = std::lower_bound(std::begin(currency_table), end, code,
                                       [](const CurrencyEntry& e, std::string_view c) { return e.code < c; });
  if (found == end || found->code != code) return std::nullopt;
  Currency currency;
  std::copy(code.begin(), code.end(), currency.code_.begin());
  currency.minor_unit_digits_ = found->digits;
  return currency;
}

std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<int64_t> checked_sub(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_sub_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}

std::optional<Money> add(const Money& a, const Money& b) {
  if (!(a.currency == b.currency)) return std::nullopt;
  auto sum = checked_add(a.amount, b.amount);
  if (!sum) return std::nullopt;
  return Money{*sum, a.currency};
}

std::optional<Money> subtract(const Money& a, const Money& b) {
  if (!(a.currency == b.currency)) return std::nullopt;
  auto difference = checked_sub(a.amount, b.amount);
  if (!difference) return std::nullopt;
  return Money{*difference, a.currency};
}

std::optional<int64_t> fee_of(int64_t amount, int64_t fee_bps) {
  assert(amount >= 0 && fee_bps >= 0 && fee_bps <= 10000);
  auto scaled = checked_mul(amount, fee_bps);
  if (!scaled) return std::nullopt;
  return *scaled / 10000;  // non-negative operands: integer division rounds down
}

std::optional<int64_t> parse_decimal_amount(std::string_view text, const Currency& currency) {
  constexpr size_t text_bytes_max = 64;
  if (text.empty() || text.size() > text_bytes_max || !currency.valid()) return std::nullopt;
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  if (whole.empty()) return std::nullopt;
  if (point != std::string_view::npos && fraction.empty()) return std::nullopt;
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole) || !all_digits(fraction)) return std::nullopt;
  const auto digits = static_cast<size_t>(currency.minor_unit_digits());
  // Fraction digits past the exponent are exact only when they are zeros.
  if (fraction.size() > digits) {
    if (fraction.find_first_not_of('0', digits) != std::string_view::npos) return std::nullopt;
    fraction = fraction.substr(0, digits);
  }
  int64_t value = 0;
  auto push_digit = [&value](char c) {
    auto shifted = checked_mul(value, 10);
    if (!shifted) return false;
    auto next = checked_add(*shifted, c - '0');
    if (!next) return false;
    value = *next;
    return true;
  };
  for (char c : whole) {
    if (!push_digit(c)) return std::nullopt;
  }
  for (size_t i = 0; i < digits; ++i) {
    if (!push_digit(i < fraction.size() ? fraction[i] : '0')) return std::nullopt;
  }
  return value;
}

std::string format_decimal_amount(int64_t amount, const Currency& currency) {
  const int digits = currency.minor_unit_digits();
  // Work in unsigned so that INT64_MIN has a magnitude.
  const bool negative = amount < 0;
  uint64_t magnitude = negative ? ~static_cast<uint64_t>(amount) + 1 : static_cast<uint64_t>(amount);
  std::string text = std::to_string(magnitude);
  if (digits > 0) {
    if (text.size() <= static_cast<size_t>(digits)) text.insert(0, static_cast<size_t>(digits) - text.size() + 1, '0');
    text.insert(text.size() - static_cast<size_t>(digits), 1, '.');
  }
  if (negative) text.insert(0, 1, '-');
  return text;
}

std::string format_money(const Money& money) {
  std::string text(money.currency.code());
  text += ' ';
  text += format_decimal_amount(money.amount, money.currency);
  return text;
}

}  // namespace tl
