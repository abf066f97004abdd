#include "core/time.h"

#include <gtest/gtest.h>

namespace medhub {
namespace {

constexpr int64_t kDay = 86'400'000'000;

TEST(TimeTest, YearMonthAndDayAreRangesCoveringTheirWholePeriod) {
  auto y = ParseFhirDate("2019");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->low, DaysFromCivil(2019, 1, 1) * kDay);
  EXPECT_EQ(y->high, DaysFromCivil(2020, 1, 1) * kDay);
  auto m = ParseFhirDate("2019-12");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->high, DaysFromCivil(2020, 1, 1) * kDay);
  auto d = ParseFhirDate("2020-02-29", DateKind::kDate);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->high - d->low, kDay);
}

TEST(TimeTest, DateTimeWithOffsetIsNormalizedToUtc) {
  auto a = ParseFhirDate("2015-02-07T13:28:17-05:00");
  auto b = ParseFhirDate("2015-02-07T18:28:17Z");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->low, b->low);
  EXPECT_EQ(a->high - a->low, 1'000'000);
}

TEST(TimeTest, FractionalSecondsNarrowTheRange) {
  auto a = ParseFhirDate("2015-02-07T13:28:17.239+02:00", DateKind::kInstant);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->high - a->low, 1000);
}

TEST(TimeTest, MalformedDatesAreRejectedWithAReason) {
  for (const char* bad :
       {"", "19", "2019-13", "2019-02-30", "2019-01-01T10:00", "2019-01-01T10:00:00",
        "2019-01-01T25:00:00Z", "2019-01-01Z", "2019/01/01", "2019-01-01T10:00:00Zjunk"}) {
    EXPECT_FALSE(ParseFhirDate(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseFhirDate("2019-01-01T10:00:00Z", DateKind::kDate).ok());
  EXPECT_FALSE(ParseFhirDate("2019-01-01", DateKind::kInstant).ok());
}

TEST(TimeTest, FormatInstantRoundTripsThroughTheParser) {
  const int64_t t = 1'764'068'158'123'456;
  const std::string s = FormatInstant(t);
  EXPECT_EQ(s, "2025-11-25T10:55:58.123456Z");
  auto r = ParseFhirDate(s, DateKind::kInstant);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->low, t);
}

}  // namespace
}  // namespace medhub
