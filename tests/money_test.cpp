#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "projections/money.h"

using namespace tl;

namespace {
Currency currency(const char* code) { return *Currency::parse(code); }
}  // namespace

TEST_CASE("Currency accepts ISO 4217 codes with their minor-unit exponent") {
  CHECK(currency("ETB").minor_unit_digits() == 2);
  CHECK(currency("JPY").minor_unit_digits() == 0);
  CHECK(currency("KWD").minor_unit_digits() == 3);
  // Funds codes and the newest codes are ISO 4217 codes too; CLF and UYW have four digits.
  CHECK(currency("CLF").minor_unit_digits() == 4);
  CHECK(currency("UYW").minor_unit_digits() == 4);
  CHECK(currency("UYI").minor_unit_digits() == 0);
  CHECK(currency("XCG").minor_unit_digits() == 2);
  CHECK(currency("ZWG").minor_unit_digits() == 2);
  CHECK(currency("VED").minor_unit_digits() == 2);
  CHECK_FALSE(Currency::parse("XAU"));  // no minor unit: not money a tutor is paid in
  CHECK_FALSE(Currency::parse("etb"));
  CHECK_FALSE(Currency::parse("XXX"));
  CHECK_FALSE(Currency::parse("ET"));
  CHECK_FALSE(Currency::parse("ETBB"));
  CHECK_FALSE(Currency::parse(""));
  // The ends of the table, and codes just beside them or beyond ASCII.
  CHECK(currency("AED").minor_unit_digits() == 2);
  CHECK(currency("ZWL").minor_unit_digits() == 2);
  CHECK_FALSE(Currency::parse("AEC"));
  CHECK_FALSE(Currency::parse("ZWM"));
  CHECK_FALSE(Currency::parse("\xC5TB"));
  CHECK_FALSE(Currency::parse(std::string_view("ET\0", 3)));
}

TEST_CASE("DecimalAmountIsParsedExactlyByTheCurrencyExponent") {
  CHECK(parse_decimal_amount("350.00", currency("ETB")) == 35000);
  CHECK(parse_decimal_amount("350", currency("ETB")) == 35000);
  CHECK(parse_decimal_amount("350.5", currency("ETB")) == 35050);
  CHECK(parse_decimal_amount("0.01", currency("ETB")) == 1);
  CHECK(parse_decimal_amount("350", currency("JPY")) == 350);
  CHECK(parse_decimal_amount("1.005", currency("KWD")) == 1005);
  CHECK(parse_decimal_amount("37.5612", currency("CLF")) == 375612);
  CHECK_FALSE(parse_decimal_amount("37.56123", currency("CLF")));
  // Zeros beyond the exponent are exact; anything else is not representable.
  CHECK(parse_decimal_amount("350.000", currency("ETB")) == 35000);
  CHECK_FALSE(parse_decimal_amount("350.001", currency("ETB")));
  CHECK_FALSE(parse_decimal_amount("350.5", currency("JPY")));
}

TEST_CASE("DecimalAmountRefusesMalformedText") {
  const auto etb = currency("ETB");
  for (const char* bad : {"", ".", "1.", ".5", "-1.00", "+1.00", "1e3", " 1.00", "1.00 ", "1,000.00", "0x10",
                          "1..0", "abc", "NaN", "1.0.0"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_decimal_amount(bad, etb));
  }
}

TEST_CASE("DecimalAmountRefusesOverflow") {
  CHECK(parse_decimal_amount("92233720368547758.07", currency("ETB")) == std::numeric_limits<int64_t>::max());
  CHECK_FALSE(parse_decimal_amount("92233720368547758.08", currency("ETB")));
  CHECK_FALSE(parse_decimal_amount("99999999999999999999999", currency("JPY")));
}

TEST_CASE("Formatting uses the currency's minor-unit digits") {
  CHECK(format_decimal_amount(29750, currency("ETB")) == "297.50");
  CHECK(format_decimal_amount(5, currency("ETB")) == "0.05");
  CHECK(format_decimal_amount(0, currency("ETB")) == "0.00");
  CHECK(format_decimal_amount(350, currency("JPY")) == "350");
  CHECK(format_decimal_amount(-1005, currency("KWD")) == "-1.005");
  CHECK(format_decimal_amount(std::numeric_limits<int64_t>::min(), currency("JPY")) == "-9223372036854775808");
  CHECK(format_money(Money{29750, currency("ETB")}) == "ETB 297.50");
  CHECK(format_money(Money{375612, currency("CLF")}) == "CLF 37.5612");
  CHECK(format_money(Money{5, currency("UYW")}) == "UYW 0.0005");
}

TEST_CASE("CheckedArithmeticRefusesOverflowAndCurrencyMismatch") {
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  CHECK_FALSE(checked_add(max, 1));
  CHECK_FALSE(checked_sub(std::numeric_limits<int64_t>::min(), 1));
  CHECK_FALSE(checked_mul(max / 2 + 1, 2));
  CHECK(checked_add(1, 2) == 3);
  CHECK_FALSE(add(Money{1, currency("ETB")}, Money{1, currency("USD")}));
  CHECK(add(Money{1, currency("ETB")}, Money{2, currency("ETB")}) == Money{3, currency("ETB")});
  CHECK(subtract(Money{1, currency("ETB")}, Money{2, currency("ETB")}) == Money{-1, currency("ETB")});
}

TEST_CASE("FeeIsBasisPointsRoundedDown") {
  CHECK(fee_of(35000, 1500) == 5250);
  CHECK(fee_of(1, 1500) == 0);
  CHECK(fee_of(7, 1500) == 1);  // 1.05 rounds down
  CHECK(fee_of(1'000'000'000'000, 1500) == 150'000'000'000);
  CHECK_FALSE(fee_of(std::numeric_limits<int64_t>::max(), 1500));
}
