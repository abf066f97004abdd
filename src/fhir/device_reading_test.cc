#include "fhir/device_reading.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace medhub::fhir {
namespace {

Reading Make(ReadingKind kind, std::vector<std::string> values, std::string unit) {
  Reading r;
  r.seq = 9007199254740992;  // 2^53, the largest seq
  r.kind = kind;
  r.values = std::move(values);
  r.unit = std::move(unit);
  r.time = "2026-11-29T10:00:00.250+01:00";
  return r;
}

TEST(DeviceReading, TheDirectRenderingEqualsTheSerializedObservationForEveryKind) {
  std::vector<Reading> readings = {
      Make(ReadingKind::kBloodPressure, {"128", "84.50"}, "mm[Hg]"),
      Make(ReadingKind::kHeartRate, {"72"}, "/min"),
      Make(ReadingKind::kGlucose, {"5.8"}, "mmol/L"),
      Make(ReadingKind::kBodyTemperature, {"98.60"}, "[degF]"),
      Make(ReadingKind::kSpo2, {"97"}, "%"),
  };
  for (const char* rhythm : {"sinus", "atrial-fibrillation", "other"}) {
    Reading ecg = Make(ReadingKind::kEcg, {"0.12", "-0.3", "1e-2"}, "mV");
    ecg.period_ms = "4";
    ecg.heart_rate = "88";
    ecg.rhythm = rhythm;
    readings.push_back(ecg);
  }
  for (const Reading& r : readings) {
    const std::string want = json::Serialize(
        ReadingObservationValue(r, "cuff.1-A", "p-1", "rd00000001000000000000002a", 1));
    EXPECT_EQ(RenderReadingObservation(r, "cuff.1-A", "p-1", "rd00000001000000000000002a", 1), want)
        << ReadingKindName(r.kind) << " " << r.rhythm;
    EXPECT_TRUE(json::Parse(want).ok());
  }
}

TEST(DeviceReading, TheRenderingHasMetaAfterIdAndTheReadingsIdentifier) {
  Reading r = Make(ReadingKind::kHeartRate, {"72"}, "/min");
  r.seq = 3;
  const std::string json = RenderReadingObservation(r, "cuff", "p1", "rdx", 0);
  EXPECT_EQ(json.find(R"({"resourceType":"Observation","id":"rdx","meta":{"versionId":"1",)"), 0u)
      << json;
  EXPECT_NE(json.find(R"("value":"cuff/3")"), std::string::npos);
  EXPECT_NE(json.find(R"("subject":{"reference":"Patient/p1"})"), std::string::npos);
}

}  // namespace
}  // namespace medhub::fhir
