#include "fhir/search_query.h"

#include <gtest/gtest.h>

namespace medhub::fhir {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(SearchQueryTest, TokenDateAndPagingParametersAreParsed) {
  auto q = ParseSearchQuery("Observation", Params{{"patient", "p1"},
                                                  {"code", "http://loinc.org|8480-6,8462-4"},
                                                  {"date", "ge2020-01-01"},
                                                  {"_count", "10"},
                                                  {"_sort", "-date"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->criteria.size(), 3u);
  EXPECT_EQ(q->criteria[0].any_of[0].value, "Patient/p1");
  ASSERT_EQ(q->criteria[1].any_of.size(), 2u);
  EXPECT_TRUE(q->criteria[1].any_of[0].has_system);
  EXPECT_EQ(q->criteria[1].any_of[0].system, "http://loinc.org");
  EXPECT_FALSE(q->criteria[1].any_of[1].has_system);
  EXPECT_EQ(q->criteria[2].any_of[0].prefix, Prefix::kGe);
  EXPECT_EQ(q->count, 10u);
  EXPECT_TRUE(q->sort_descending);
  EXPECT_EQ(q->sort->name, "date");
}

TEST(SearchQueryTest, UnknownParametersModifiersAndValuesAreRejected) {
  for (const Params& p :
       {Params{{"bogus", "1"}}, Params{{"code:exact", "x"}}, Params{{"date", "2020-13"}},
        Params{{"_count", "-1"}}, Params{{"_sort", "code"}}, Params{{"patient", "a b"}},
        Params{{"value-quantity", "abc"}}, Params{{"_include", "Patient:name"}}}) {
    auto q = ParseSearchQuery("Observation", p);
    EXPECT_FALSE(q.ok()) << p[0].first;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SearchQueryTest, IncludesNameAReferenceParameter) {
  auto q = ParseSearchQuery("Patient", Params{{"_revinclude", "Observation:patient"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->revincludes.size(), 1u);
  EXPECT_EQ(q->revincludes[0].source_type, "Observation");
  EXPECT_EQ(q->revincludes[0].param->name, "patient");
}

TEST(SearchQueryTest, DatePrefixesFollowFhirRangeSemantics) {
  const DateRange day = *ParseFhirDate("2020-01-02");
  const DateRange noon = *ParseFhirDate("2020-01-02T12:00:00Z");
  const DateRange next = *ParseFhirDate("2020-01-03T00:00:00Z");
  EXPECT_TRUE(DateMatches(Prefix::kEq, day, noon));
  EXPECT_FALSE(DateMatches(Prefix::kEq, day, next));
  EXPECT_TRUE(DateMatches(Prefix::kGt, day, next));
  EXPECT_FALSE(DateMatches(Prefix::kLt, day, noon));
  EXPECT_TRUE(DateMatches(Prefix::kGe, day, noon));
  EXPECT_TRUE(DateMatches(Prefix::kLe, day, noon));
  EXPECT_TRUE(DateMatches(Prefix::kNe, day, next));
}

TEST(SearchQueryTest, QuantityEqualityUsesThePrecisionWritten) {
  SearchValue v;
  v.number = 5.4;
  v.range.low = 1;  // one decimal written
  EXPECT_TRUE(NumberMatches(Prefix::kEq, v, 5.44));
  EXPECT_FALSE(NumberMatches(Prefix::kEq, v, 5.46));
  EXPECT_TRUE(NumberMatches(Prefix::kGt, v, 5.46));
}

}  // namespace
}  // namespace medhub::fhir
