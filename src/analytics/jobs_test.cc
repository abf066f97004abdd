// Semantics of the built-in jobs on a small hand-written lake: versions, tombstones, codes.
#include <gtest/gtest.h>

#include "analytics/job.h"
#include "analytics/lake_input.h"
#include "analytics/local_engine.h"
#include "analytics/test_util.h"

namespace medhub::analytics {
namespace {

using testing::Lines;
using testing::TempDir;
using testing::WriteFile;

std::string Patient(const std::string& id, const std::string& gender, const std::string& birth) {
  return R"({"resourceType":"Patient","id":")" + id + R"(","meta":{"versionId":"1"},"gender":")" +
         gender + R"(","birthDate":")" + birth + R"("})";
}

std::string Condition(const std::string& id, const std::string& patient, const std::string& code,
                      const std::string& version = "1", const std::string& status = "active") {
  return R"({"resourceType":"Condition","id":")" + id + R"(","meta":{"versionId":")" + version +
         R"("},"clinicalStatus":{"coding":[{"code":")" + status +
         R"("}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":")" + code +
         R"("}]},"subject":{"reference":"Patient/)" + patient +
         R"("},"onsetDateTime":"2015-01-01T00:00:00Z"})";
}

std::string Tombstone(const std::string& type, const std::string& id, const std::string& version) {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","meta":{"versionId":")" +
         version + R"(","tag":[{"system":"urn:medhub:lake","code":"deleted"}]}})";
}

std::string Bp(const std::string& id, const std::string& patient, const std::string& when,
               const std::string& sys, const std::string& dia, const std::string& version = "1",
               const std::string& device = "") {
  return R"({"resourceType":"Observation","id":")" + id + R"(","meta":{"versionId":")" + version +
         R"("},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/)" +
         patient + R"("},"effectiveDateTime":")" + when + R"(",)" +
         (device.empty() ? "" : R"("device":{"reference":"Device/)" + device + R"("},)") +
         R"("component":[{"code":{"coding":[{"code":"8480-6"}]},"valueQuantity":{"value":)" + sys +
         R"(}},{"code":{"coding":[{"code":"8462-4"}]},"valueQuantity":{"value":)" + dia + "}}]}";
}

std::string Simple(const std::string& id, const std::string& patient, const std::string& loinc,
                   const std::string& value) {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","meta":{"versionId":"1"},"status":"final","code":{"coding":[{"code":")" + loinc +
         R"("}]},"subject":{"reference":"Patient/)" + patient +
         R"("},"effectiveDateTime":"2019-05-05T00:00:00Z",)" + value + "}";
}

std::string Med(const std::string& id, const std::string& patient, const std::string& rxnorm,
                const std::string& status) {
  return R"({"resourceType":"MedicationRequest","id":")" + id + R"(","meta":{"versionId":"1"},"status":")" +
         status + R"(","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":")" +
         rxnorm + R"("}]},"subject":{"reference":"Patient/)" + patient +
         R"("},"authoredOn":"2016-01-01T00:00:00Z"})";
}

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = dir_.path();
    WriteFile(root + "/Patient/date=2026-11/bucket=01/part-0000000001-0000.ndjson",
              Lines({Patient("p1", "female", "1950-06-01"), Patient("p2", "male", "1990-01-01"),
                     Patient("p3", "female", "1980-03-03")}));
    WriteFile(root + "/Condition/date=2015-01/bucket=01/part-0000000001-0000.ndjson",
              Lines({Condition("c1", "p1", "38341003"), Condition("c2", "p1", "49436004"),
                     Condition("c3", "p1", "230690007"), Condition("c4", "p2", "38341003"),
                     Condition("c5", "p2", "49436004"), Condition("c6", "p3", "38341003")}));
    // A later commit deletes p2's hypertension.
    WriteFile(root + "/Condition/date=2015-01/bucket=01/part-0000000002-0000.ndjson",
              Lines({Tombstone("Condition", "c4", "2")}));
    WriteFile(root + "/Observation/date=2020-01/bucket=01/part-0000000001-0000.ndjson",
              Lines({Bp("o1", "p1", "2020-01-10T08:00:00Z", "130", "80"),
                     Bp("o2", "p1", "2020-01-20T08:00:00Z", "150", "95"),
                     Bp("o3", "p1", "2020-02-05T08:00:00Z", "120.5", "70"),
                     Bp("o4", "p2", "2020-01-15T08:00:00Z", "120", "80"),
                     Bp("o5", "p3", "2020-03-01T08:00:00Z", "150", "100", "1"),
                     Simple("o6", "p1", "39156-5", R"("valueQuantity":{"value":32.1})"),
                     Simple("o7", "p1", "72166-2",
                            R"("valueCodeableConcept":{"coding":[{"code":"449868002"}]})"),
                     Bp("d1", "p2", "2020-01-01T07:00:00Z", "120", "80", "1", "dev1"),
                     Bp("d2", "p2", "2020-01-01T19:00:00Z", "121", "81", "1", "dev1"),
                     Bp("d3", "p2", "2020-01-03T07:00:00Z", "122", "82", "1", "dev1")}));
    // Version 2 of o5 corrects the reading: controlled.
    WriteFile(root + "/Observation/date=2020-01/bucket=01/part-0000000002-0000.ndjson",
              Lines({Bp("o5", "p3", "2020-03-01T08:00:00Z", "120", "70", "2")}));
    WriteFile(root + "/MedicationRequest/date=2016-01/bucket=01/part-0000000001-0000.ndjson",
              Lines({Med("m1", "p1", "855332", "stopped"), Med("m2", "p2", "1364445", "active")}));
    // Not published: in progress.
    WriteFile(root + "/Observation/_staging/part.ndjson", "{broken");
  }

  std::vector<std::string> Run(const std::string& name) {
    auto job = FindJob(name);
    EXPECT_TRUE(job.ok());
    auto files = LocalLakeFiles(dir_.path(), (*job)->input_types());
    EXPECT_TRUE(files.ok());
    auto result = RunLocal(**job, *files, EngineOptions{});
    EXPECT_TRUE(result.ok()) << result.status().message();
    EXPECT_EQ(result->stats.bad_lines, 0u);
    return result->lines;
  }

  TempDir dir_;
};

TEST_F(JobsTest, BpControlUsesTheLastReadingOfEachMonthOfHypertensivePatientsOnly) {
  EXPECT_EQ(Run("bp-control"),
            (std::vector<std::string>{"18-44|female|2020-03\t1\t1\t1.0000",
                                      "65-74|female|2020-01\t1\t0\t0.0000",
                                      "65-74|female|2020-02\t1\t1\t1.0000"}));
}

TEST_F(JobsTest, StrokeRiskFactorsCountsEachPatientOnceWithTheLatestVersions) {
  EXPECT_EQ(Run("stroke-risk-factors"), (std::vector<std::string>{
                                            "no_stroke|atrial_fibrillation\t2\t1\t0.5000",
                                            "no_stroke|diabetes\t2\t0\t0.0000",
                                            "no_stroke|hypertension\t2\t1\t0.5000",
                                            "no_stroke|obesity\t2\t0\t0.0000",
                                            "no_stroke|smoking\t2\t0\t0.0000",
                                            "stroke|atrial_fibrillation\t1\t1\t1.0000",
                                            "stroke|diabetes\t1\t0\t0.0000",
                                            "stroke|hypertension\t1\t1\t1.0000",
                                            "stroke|obesity\t1\t1\t1.0000",
                                            "stroke|smoking\t1\t1\t1.0000",
                                        }));
}

TEST_F(JobsTest, CareGapListsAtrialFibrillationWithoutAnActiveAnticoagulant) {
  EXPECT_EQ(Run("af-anticoagulation-gap"),
            (std::vector<std::string>{"p1\t2015-01-01\tstopped"}));
}

TEST_F(JobsTest, DeviceReadingsCountEveryDayAndShowMissingDaysAsZero) {
  EXPECT_EQ(Run("device-readings"),
            (std::vector<std::string>{"dev1|2020-01-01\t2", "dev1|2020-01-02\t0",
                                      "dev1|2020-01-03\t1"}));
}

TEST(Jobs, AnUnknownJobNameListsTheKnownOnes) {
  auto job = FindJob("no-such-job");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("bp-control"), std::string::npos);
  EXPECT_NE(job.status().message().find("device-readings"), std::string::npos);
}

}  // namespace
}  // namespace medhub::analytics
