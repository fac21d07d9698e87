#include "exchange/ecotaxa_values.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <gtest/gtest.h>

namespace tessera::exchange::ecotaxa {
namespace {

TEST(EcoTaxaValues, DatesAreParsedLikeEcoTaxa) {
  EXPECT_EQ(parse_date("20240115"), "20240115");
  EXPECT_EQ(parse_date("2024-01-15"), "20240115");
  EXPECT_EQ(parse_date("20240229"), "20240229");
  for (const char* bad : {"20230229", "20241301", "20240100", "2024-1-15", "2024/01/15", "00000101", "2024011",
                          "2024-01-1x", "+0240115"}) {
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
  }
}

TEST(EcoTaxaValues, TimesArePaddedLikeEcoTaxa) {
  EXPECT_EQ(parse_time("143000"), "143000");
  EXPECT_EQ(parse_time("1430"), "143000");
  EXPECT_EQ(parse_time("420"), "042000");  // a spreadsheet dropped the leading zero of 0420
  EXPECT_EQ(parse_time("5"), "000500");
  EXPECT_EQ(parse_time("14:30:05"), "143005");
  EXPECT_EQ(parse_time("12345"), "123450");  // EcoTaxa right-pads the seconds
  for (const char* bad : {"2400", "1260", "126000" "0", "14:30", "14:3:05", "14-30-05", "ab", "", "1430000"}) {
    EXPECT_FALSE(parse_time(bad).has_value()) << bad;
  }
}

TEST(EcoTaxaValues, StatusIsOneOfFourInAnyCase) {
  EXPECT_EQ(parse_status("Validated"), "validated");
  EXPECT_EQ(parse_status("PREDICTED"), "predicted");
  EXPECT_EQ(parse_status("dubious"), "dubious");
  EXPECT_EQ(parse_status("discarded"), "discarded");
  EXPECT_EQ(parse_status(""), "");
  EXPECT_FALSE(parse_status("valid").has_value());
  EXPECT_FALSE(parse_status("unclassified").has_value());
}

TEST(EcoTaxaValues, TextCellsAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(text_cell("plain text, with commas"), "plain text, with commas");
  EXPECT_EQ(text_cell("tab\there"), "\"tab\there\"");
  EXPECT_EQ(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(text_cell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(text_cell(""), "");
}

TEST(EcoTaxaValues, NumbersRoundTripAndNonFiniteIsEmpty) {
  EXPECT_EQ(number_cell(0.1), "0.1");
  EXPECT_EQ(number_cell(516.0), "516");
  EXPECT_EQ(number_cell(-2.5e-300), "-2.5e-300");
  for (const double v : {1.0 / 3.0, 241.039993286133, 1e300, 5e-324, -123456789.123456789}) {
    EXPECT_EQ(std::strtod(number_cell(v).c_str(), nullptr), v);  // (std::stod rejects denormals)
  }
  EXPECT_EQ(number_cell(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_EQ(number_cell(std::numeric_limits<double>::infinity()), "");
  EXPECT_EQ(number_cell(-std::numeric_limits<double>::infinity()), "");
}

TEST(EcoTaxaValues, FieldNamesAreSanitised) {
  EXPECT_EQ(sanitize_field("Area"), "area");
  EXPECT_EQ(sanitize_field("Feret (px)"), "feret_px");
  EXPECT_EQ(sanitize_field("__mean__intensity__"), "mean_intensity");
  EXPECT_EQ(sanitize_field("area_exc"), "area_exc");
  EXPECT_EQ(sanitize_field("µm²"), "m");
  EXPECT_EQ(sanitize_field("()"), "");
}

TEST(EcoTaxaValues, Utf8IsChecked) {
  EXPECT_TRUE(is_valid_utf8("Copépode µm ✓ 🦐"));
  EXPECT_FALSE(is_valid_utf8("Cop\xe9pode"));          // Latin-1 é
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));             // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));         // surrogate
  EXPECT_FALSE(is_valid_utf8("ok\xe2\x9c"));           // truncated
}

}  // namespace
}  // namespace tessera::exchange::ecotaxa
