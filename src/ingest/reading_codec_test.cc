#include "fhir/reading_codec.h"

#include <gtest/gtest.h>

#include "core/hash.h"
#include "core/json.h"
#include "core/time.h"
#include "ingest/readings.h"

namespace medhub::ingest {
namespace {

using fhir::DecodeReadings;
using fhir::EncodeReadings;
using fhir::ReadingSalt;

const int64_t kNow = ParseFhirDate("2026-11-29T12:00:00Z", DateKind::kInstant)->low;

std::vector<Reading> SampleBatch() {
  const char* kBatch = R"({"readings":[
    {"seq":7,"kind":"blood-pressure","values":[128,84.5],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"},
    {"seq":8,"kind":"heart-rate","value":72,"unit":"/min","time":"2026-11-29T10:00:00.250+01:00"},
    {"seq":9,"kind":"body-temperature","value":36.80,"unit":"Cel","time":"2026-11-29T10:01:00Z"},
    {"seq":10,"kind":"ecg","values":[0.12,0.3,-0.1,1e-2],"unit":"mV","period":4,"heart_rate":88,
     "rhythm":"atrial-fibrillation","time":"2026-11-29T10:02:00Z"},
    {"seq":11,"kind":"spo2","value":97,"unit":"%","time":"2026-11-29T10:03:00Z"},
    {"seq":12,"kind":"glucose","value":5.8,"unit":"mmol/L","time":"2026-11-29T10:04:00Z"}]})";
  return ParseReadingBatch(kBatch, kNow).value().readings;
}

TEST(ReadingCodec, EveryKindRendersTheSameObservationBytesAfterARoundTrip) {
  const std::vector<Reading> batch = SampleBatch();
  ASSERT_EQ(batch.size(), 6u);
  auto record = EncodeReadings(batch);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  auto decoded = DecodeReadings(*record);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string want = json::Serialize(ObservationFor(batch[i], "cuff-1", "p1"));
    EXPECT_EQ(json::Serialize(ObservationFor((*decoded)[i], "cuff-1", "p1")), want) << i;
  }
  EXPECT_EQ((*decoded)[3].values[3], "1e-2") << "numbers keep the text they were sent with";
  EXPECT_EQ((*decoded)[1].time, "2026-11-29T10:00:00.250+01:00");
}

TEST(ReadingCodec, TheRecordIsCompact) {
  const std::vector<Reading> batch = SampleBatch();
  size_t json_bytes = 0;
  for (const Reading& r : batch) json_bytes += json::Serialize(ObservationFor(r, "d", "p")).size();
  const size_t record_bytes = EncodeReadings(batch)->size();
  EXPECT_LT(record_bytes * 5, json_bytes) << record_bytes << " vs " << json_bytes;
}

TEST(ReadingCodec, AnEmptyBatchRoundTrips) {
  auto decoded = DecodeReadings(EncodeReadings({}).value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(ReadingCodec, EveryTruncationAndTrailingByteIsDataLossNotACrash) {
  const std::string record = EncodeReadings(SampleBatch()).value();
  for (size_t n = 0; n < record.size(); ++n) {
    auto r = DecodeReadings(std::string_view(record).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeReadings(record + "x").status().code(), StatusCode::kDataLoss);
}

TEST(ReadingCodec, AnUnknownVersionKindOrAHugeCountIsDataLoss) {
  std::string record = EncodeReadings(SampleBatch()).value();
  std::string bad_version = record;
  bad_version[0] = 9;
  EXPECT_EQ(DecodeReadings(bad_version).status().code(), StatusCode::kDataLoss);
  std::string bad_kind = record;
  bad_kind[1 + 4 + 8] = 42;  // the first reading's kind
  EXPECT_EQ(DecodeReadings(bad_kind).status().code(), StatusCode::kDataLoss);
  std::string huge = record;
  huge[1] = '\xff';  // count 0xff......
  EXPECT_EQ(DecodeReadings(huge).status().code(), StatusCode::kDataLoss);
}

TEST(ReadingCodec, ATimeThatIsNotAnInstantCannotBeEncoded) {
  std::vector<Reading> batch = SampleBatch();
  batch[0].time = "2026-11";
  EXPECT_EQ(EncodeReadings(batch).status().code(), StatusCode::kInvalidArgument);
}

TEST(ReadingCodec, ReadingSaltsAreDistinctPerSequenceAndBatchAndStable) {
  const std::string batch_salt = RandomBytes(32);
  const std::string s1 = ReadingSalt(batch_salt, 1);
  EXPECT_EQ(s1.size(), 32u);
  EXPECT_EQ(ReadingSalt(batch_salt, 1), s1);
  EXPECT_NE(ReadingSalt(batch_salt, 2), s1);
  EXPECT_NE(ReadingSalt(RandomBytes(32), 1), s1);
}

}  // namespace
}  // namespace medhub::ingest
