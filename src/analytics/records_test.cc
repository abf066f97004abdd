#include "analytics/records.h"

#include <gtest/gtest.h>

namespace medhub::analytics {
namespace {

TEST(Records, SniffFindsTheResourceTypeWithoutParsing) {
  EXPECT_EQ(SniffResourceType(R"({"resourceType":"Observation","id":"1"})"), "Observation");
  EXPECT_EQ(SniffResourceType(R"({"id":"1", "resourceType" : "Patient"})"), "Patient");
  EXPECT_EQ(SniffResourceType(R"({"id":"1"})"), "");
}

TEST(Records, ReferencedIdAcceptsRelativeAbsoluteAndUrnReferences) {
  for (const char* ref : {"Patient/p1", "http://x/fhir/Patient/p1", "urn:uuid:p1",
                          "Patient/p1/_history/3"}) {
    auto r = json::Parse(std::string(R"({"subject":{"reference":")") + ref + "\"}}");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ReferencedId(*r, "subject", "Patient"), "p1") << ref;
  }
  auto group = json::Parse(R"({"subject":{"reference":"Group/g1"}})");
  EXPECT_EQ(ReferencedId(*group, "subject", "Patient"), "");
}

TEST(Records, LatestVersionsKeepsTheHighestVersionAndDropsTombstones) {
  const std::vector<std::string_view> values = {
      "Condition|c1|1|0|p1|htn", "Condition|c1|10|0|p1|af", "Condition|c1|2|0|p1|x",
      "Condition|c2|1|0|p1|htn", "Condition|c2|2|1|",       "Patient|p1|1|0|p1|female"};
  const auto kept = LatestVersions(values, /*drop_deleted=*/true);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], "Condition|c1|10|0|p1|af");
  EXPECT_EQ(kept[1], "Patient|p1|1|0|p1|female");
  EXPECT_EQ(LatestVersions(values, /*drop_deleted=*/false).size(), 3u);
}

TEST(Records, TombstonesAreRecognisedByTheLakeTag) {
  auto t = json::Parse(
      R"({"resourceType":"Observation","id":"o1","meta":{"versionId":"3","tag":[{"system":"urn:medhub:lake","code":"deleted"}]}})");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(IsDeletionMarker(*t));
  EXPECT_EQ(VersionOf(*t), 3);
  auto other = json::Parse(R"({"meta":{"tag":[{"system":"x","code":"deleted"}]}})");
  EXPECT_FALSE(IsDeletionMarker(*other));
}

TEST(Records, CivilDaysRoundTrip) {
  EXPECT_EQ(FormatCivilDay(0), "1970-01-01");
  EXPECT_EQ(FormatCivilDay(DaysFromCivil(2024, 2, 29)), "2024-02-29");
  EXPECT_EQ(FormatCivilDay(DaysFromCivil(1931, 12, 31)), "1931-12-31");
}

}  // namespace
}  // namespace medhub::analytics
