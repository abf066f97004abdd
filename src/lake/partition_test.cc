#include "lake/partition.h"

#include <gtest/gtest.h>

#include "core/time.h"
#include "lake/manifest.h"

namespace medhub::lake {
namespace {

json::Value J(std::string_view text) { return json::Parse(text).value(); }

TEST(PartitionTest, TheYearIsWhenTheResourceWasFirstRecordedNotItsClinicalDate) {
  const int64_t t = ParseFhirDate("2026-11-29T10:00:00Z").value().low;
  // A 1964 observation recorded in 2026 is in date=2026, with the rest of that import.
  EXPECT_EQ(PartitionYear(J(R"({"effectiveDateTime":"1964-03-05T10:00:00Z"})"), t), "2026");
  EXPECT_EQ(PartitionYear(J(R"({"meta":{"lastUpdated":"2019-01-01T00:00:00Z"}})"), t), "2026");
  // Not through a store (no time given): the resource's own meta.lastUpdated, else 1970.
  EXPECT_EQ(PartitionYear(J(R"({"meta":{"lastUpdated":"2019-01-01T00:00:00Z"}})"), 0), "2019");
  EXPECT_EQ(PartitionYear(J(R"({"meta":{"lastUpdated":"soon"}})"), 0), "1970");
  EXPECT_EQ(PartitionYear(J(R"({"effectiveDateTime":"2024-03-05"})"), 0), "1970");
}

TEST(PartitionTest, TheBucketFollowsThePatientSoAPatientsResourcesShareIt) {
  const json::Value obs = J(R"({"subject":{"reference":"Patient/p1"}})");
  EXPECT_EQ(PatientOf(obs, "Observation", "o1"), "p1");
  EXPECT_EQ(PatientOf(J(R"({"patient":{"reference":"http://x/fhir/Patient/p1"}})"),
                      "MedicationRequest", "m"),
            "p1");
  EXPECT_EQ(PatientOf(J("{}"), "Patient", "p1"), "p1");
  EXPECT_EQ(PatientOf(J(R"({"subject":{"reference":"Group/g"}})"), "Observation", "o"), "");
  EXPECT_EQ(BucketOf("p1", "Observation", "o1"), BucketOf("p1", "Patient", "p1"));
  const int b = BucketOf("", "Device", "d1");
  EXPECT_GE(b, 0);
  EXPECT_LT(b, kBuckets);
  EXPECT_EQ(PartitionDir("Observation", "2024", 7), "Observation/date=2024/bucket=07");
  // A smaller bucket count folds the 16 buckets: bucket k of 4 holds 16's buckets k mod 4.
  for (const char* p : {"p1", "p2", "p3", "p4", "p5"}) {
    EXPECT_EQ(BucketOf(p, "", "", 4), BucketOf(p, "", "") % 4) << p;
    EXPECT_EQ(BucketOf(p, "", "", 1), 0) << p;
  }
}

TEST(PartitionTest, ATombstoneIsAResourceShapedLineTaggedDeleted) {
  const std::string line = TombstoneLine("Observation", "o1", 3, 0);
  const json::Value v = J(line);
  EXPECT_EQ(v.get_string("resourceType"), "Observation");
  EXPECT_EQ(v.get_string("id"), "o1");
  EXPECT_EQ(v.find("meta")->get_string("versionId"), "3");
  EXPECT_EQ(v.find("meta")->find("tag")->items()[0].get_string("code"), "deleted");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(ManifestTest, AManifestRoundTripsAndItsNamesCarryTheCommitNumber) {
  Manifest m;
  m.commit = 12;
  m.previous_seq = 100;
  m.seq = 200;
  m.transaction_time = "2026-11-29T19:30:00.000000Z";
  m.changes = 100;
  m.superseding = 2;
  m.bucketing = {{1, 1}, {150, 4}};
  m.output.push_back(
      {"Observation", "Observation/date=2024/bucket=07/part-0000000012-0000.ndjson", 98, 4000});
  const Manifest back = ParseManifest(SerializeManifest(m)).value();
  EXPECT_EQ(back.commit, 12u);
  EXPECT_EQ(back.seq, 200u);
  EXPECT_EQ(back.previous_seq, 100u);
  EXPECT_EQ(back.superseding, 2u);
  EXPECT_EQ(back.bucketing, m.bucketing);
  EXPECT_EQ(BucketsAt(back.bucketing, 149), 1);
  EXPECT_EQ(BucketsAt(back.bucketing, 150), 4);
  ASSERT_EQ(back.output.size(), 1u);
  EXPECT_EQ(back.output[0].url, m.output[0].url);
  EXPECT_EQ(back.output[0].count, 98u);
  EXPECT_EQ(ManifestName(12), "manifest-0000000012.json");
  EXPECT_EQ(CommitOfName("manifest-0000000012.json", false), 12u);
  EXPECT_EQ(CommitOfName("_pending-0000000013.json", true), 13u);
  EXPECT_FALSE(CommitOfName("manifest-12.json", false).has_value());
}

TEST(ManifestTest, ATruncatedOrForeignManifestIsDataLoss) {
  const std::string text = SerializeManifest(Manifest{});
  EXPECT_EQ(ParseManifest(text.substr(0, text.size() / 2)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseManifest(R"({"format":"other"})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(
      ParseManifest(
          R"({"format":"medhub-lake/2","commit":1,"previousSeq":0,"seq":1,"changes":1,"superseding":0,"output":[{"type":"P","url":"../x","count":1,"bytes":1}]})")
          .status()
          .code(),
      StatusCode::kDataLoss);
  const std::string head =
      R"({"format":"medhub-lake/3","commit":1,"previousSeq":0,"seq":1,"changes":1,)"
      R"("superseding":0,)";
  const std::string tail = R"("output":[]})";
  EXPECT_TRUE(ParseManifest(head + R"("bucketing":[{"fromSeq":1,"buckets":2}],)" + tail).ok());
  for (const char* bad : {R"("bucketing":[],)", "",
                          R"("bucketing":[{"fromSeq":1,"buckets":4},{"fromSeq":9,"buckets":2}],)",
                          R"("bucketing":[{"fromSeq":1,"buckets":3}],)"}) {
    EXPECT_EQ(ParseManifest(head + bad + tail).status().code(), StatusCode::kDataLoss) << bad;
  }
}

TEST(ManifestTest, AnOlderSixteenBucketManifestReadsWithItsBucketing) {
  const Manifest m =
      ParseManifest(
          R"({"format":"medhub-lake/2","commit":1,"previousSeq":0,"seq":1,"changes":1,)"
          R"("superseding":0,"output":[]})")
          .value();
  EXPECT_EQ(m.bucketing, (std::vector<Bucketing>{{1, 16}}));
  EXPECT_EQ(BucketsAt(m.bucketing, 1000), 16);
}

}  // namespace
}  // namespace medhub::lake
