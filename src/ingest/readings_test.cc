#include "ingest/readings.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/time.h"
#include "fhir/resource.h"

namespace medhub::ingest {
namespace {

const int64_t kNow = ParseFhirDate("2026-11-29T12:00:00Z", DateKind::kInstant)->low;

json::Value ParseJson(std::string_view s) { return json::Parse(s).value(); }

Reading Parsed(std::string_view s) { return ParseReading(ParseJson(s), kNow).value(); }

std::string Reason(std::string_view s) {
  auto r = ParseReading(ParseJson(s), kNow);
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.status().message();
}

const json::Value& Code(const json::Value& cc) { return cc.find("coding")->items()[0]; }

TEST(Readings, BloodPressureBecomesAPanelWithSystolicAndDiastolicComponents) {
  Reading r = Parsed(
      R"({"seq":7,"kind":"blood-pressure","values":[128,84.5],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"})");
  json::Value obs = ObservationFor(r, "cuff-1", "p1");
  EXPECT_TRUE(fhir::ValidateResource(obs).ok());
  EXPECT_EQ(Code(*obs.find("code")).get_string("code"), "85354-9");
  const auto& comps = obs.find("component")->items();
  ASSERT_EQ(comps.size(), 2u);
  EXPECT_EQ(Code(*comps[0].find("code")).get_string("code"), "8480-6");
  EXPECT_EQ(comps[0].find("valueQuantity")->find("value")->text(), "128");
  EXPECT_EQ(Code(*comps[1].find("code")).get_string("code"), "8462-4");
  EXPECT_EQ(comps[1].find("valueQuantity")->find("value")->text(), "84.5");
  EXPECT_EQ(comps[1].find("valueQuantity")->get_string("code"), "mm[Hg]");
  EXPECT_EQ(Code(obs.find("category")->items()[0]).get_string("code"), "vital-signs");
  EXPECT_EQ(obs.find("subject")->get_string("reference"), "Patient/p1");
  EXPECT_EQ(obs.find("device")->get_string("reference"), "Device/cuff-1");
  EXPECT_EQ(obs.get_string("effectiveDateTime"), "2026-11-29T10:00:00Z");
  EXPECT_EQ(obs.get_string("id"), ObservationIdFor("cuff-1", 7));
  EXPECT_EQ(obs.find("identifier")->items()[0].get_string("value"), "cuff-1/7");
}

TEST(Readings, EachSingleValueKindGetsItsLoincCodeAndUcumUnit) {
  struct Case {
    const char* kind;
    const char* unit;
    const char* value;
    const char* loinc;
  };
  for (const Case& c :
       {Case{"heart-rate", "/min", "72", "8867-4"}, Case{"glucose", "mg/dL", "104", "2339-0"},
        Case{"glucose", "mmol/L", "5.8", "2339-0"},
        Case{"body-temperature", "Cel", "36.80", "8310-5"}, Case{"spo2", "%", "97", "59408-5"}}) {
    Reading r = Parsed(std::string(R"({"seq":1,"kind":")") + c.kind + R"(","value":)" + c.value +
                       R"(,"unit":")" + c.unit + R"(","time":"2026-11-29T10:00:00+01:00"})");
    json::Value obs = ObservationFor(r, "d", "p");
    EXPECT_TRUE(fhir::ValidateResource(obs).ok()) << c.kind;
    EXPECT_EQ(Code(*obs.find("code")).get_string("code"), c.loinc);
    EXPECT_EQ(obs.find("valueQuantity")->find("value")->text(), c.value);
    EXPECT_EQ(obs.find("valueQuantity")->get_string("code"), c.unit);
    EXPECT_EQ(obs.find("valueQuantity")->get_string("system"), "http://unitsofmeasure.org");
  }
}

TEST(Readings, EcgBecomesSampledDataWithHeartRateAndRhythm) {
  Reading r = Parsed(
      R"({"seq":3,"kind":"ecg","values":[0.1,0.25,-0.3],"unit":"mV","period":4,"heart_rate":88,"rhythm":"atrial-fibrillation","time":"2026-11-29T10:00:00Z"})");
  json::Value obs = ObservationFor(r, "patch", "p");
  EXPECT_TRUE(fhir::ValidateResource(obs).ok());
  const auto& comps = obs.find("component")->items();
  ASSERT_EQ(comps.size(), 3u);
  const json::Value* sd = comps[0].find("valueSampledData");
  ASSERT_NE(sd, nullptr);
  EXPECT_EQ(sd->get_string("data"), "0.1 0.25 -0.3");
  EXPECT_EQ(sd->find("period")->text(), "4");
  EXPECT_EQ(Code(*comps[1].find("code")).get_string("code"), "8867-4");
  EXPECT_EQ(comps[1].find("valueQuantity")->find("value")->text(), "88");
  EXPECT_EQ(Code(*comps[2].find("code")).get_string("code"), "8884-9");
  EXPECT_EQ(Code(*comps[2].find("valueCodeableConcept")).get_string("code"), "49436004");
}

TEST(Readings, ImpossibleValuesWrongUnitsUnknownKindsAndFutureTimesAreRejectedWithAReason) {
  EXPECT_NE(
      Reason(
          R"({"seq":1,"kind":"blood-pressure","values":[900,80],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"})")
          .find("impossible blood-pressure value 900"),
      std::string::npos);
  EXPECT_NE(
      Reason(
          R"({"seq":1,"kind":"blood-pressure","values":[80,120],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"})")
          .find("not above diastolic"),
      std::string::npos);
  EXPECT_NE(
      Reason(
          R"({"seq":1,"kind":"heart-rate","value":72,"unit":"kPa","time":"2026-11-29T10:00:00Z"})")
          .find("wrong unit 'kPa'"),
      std::string::npos);
  EXPECT_NE(
      Reason(R"({"seq":1,"kind":"weight","value":72,"unit":"kg","time":"2026-11-29T10:00:00Z"})")
          .find("unknown kind 'weight'"),
      std::string::npos);
  EXPECT_NE(Reason(R"({"seq":1,"kind":"spo2","value":97,"unit":"%","time":"2027-01-01T00:00:00Z"})")
                .find("in the future"),
            std::string::npos);
  EXPECT_NE(
      Reason(R"({"seq":1,"kind":"spo2","value":97,"unit":"%","time":"yesterday"})").find("time"),
      std::string::npos);
  EXPECT_NE(
      Reason(R"({"seq":-1,"kind":"spo2","value":97,"unit":"%","time":"2026-11-29T10:00:00Z"})")
          .find("seq"),
      std::string::npos);
  EXPECT_NE(
      Reason(R"({"seq":1,"kind":"spo2","value":"97","unit":"%","time":"2026-11-29T10:00:00Z"})")
          .find("numbers"),
      std::string::npos);
  EXPECT_NE(
      Reason(R"({"seq":1,"kind":"ecg","values":[0.1],"unit":"mV","time":"2026-11-29T10:00:00Z"})")
          .find("period"),
      std::string::npos);
}

TEST(Readings, ABatchKeepsItsGoodReadingsAndReportsEachBadOneByIndexAndSeq) {
  auto batch = ParseReadingBatch(
      R"({"readings":[
        {"seq":1,"kind":"heart-rate","value":70,"unit":"/min","time":"2026-11-29T10:00:00Z"},
        {"seq":2,"kind":"blood-pressure","values":[900,80],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"},
        {"seq":1,"kind":"heart-rate","value":71,"unit":"/min","time":"2026-11-29T10:00:01Z"},
        "junk",
        {"seq":4,"kind":"spo2","value":98,"unit":"%","time":"2026-11-29T10:00:00Z"}]})",
      kNow);
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->readings.size(), 2u);
  EXPECT_EQ(batch->readings[0].seq, 1u);
  EXPECT_EQ(batch->readings[1].seq, 4u);
  EXPECT_EQ(batch->repeated, std::vector<uint64_t>{1});
  ASSERT_EQ(batch->rejected.size(), 2u);
  EXPECT_EQ(batch->rejected[0].index, 1u);
  EXPECT_EQ(batch->rejected[0].seq, 2u);
  EXPECT_EQ(batch->rejected[1].index, 3u);
  EXPECT_FALSE(batch->rejected[1].seq.has_value());
}

TEST(Readings, AMalformedBatchIsOneErrorForTheWholeRequest) {
  EXPECT_EQ(ParseReadingBatch("not json", kNow).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseReadingBatch(R"({"readings":{}})", kNow).status().code(),
            StatusCode::kInvalidArgument);
  std::string big = R"({"readings":[)";
  for (size_t i = 0; i <= kMaxReadingsPerBatch; ++i) big += i ? ",{}" : "{}";
  big += "]}";
  EXPECT_EQ(ParseReadingBatch(big, kNow).status().code(), StatusCode::kResourceExhausted);
}

TEST(Readings, ObservationIdsAreDeterministicPerDeviceAndSequence) {
  EXPECT_EQ(ObservationIdFor("a", 1), ObservationIdFor("a", 1));
  EXPECT_NE(ObservationIdFor("a", 1), ObservationIdFor("a", 2));
  EXPECT_NE(ObservationIdFor("a", 11), ObservationIdFor("a1", 1));
  EXPECT_EQ(ObservationIdFor("a", 1).size(), 41u);
}

}  // namespace
}  // namespace medhub::ingest
