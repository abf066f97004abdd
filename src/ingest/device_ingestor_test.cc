#include "ingest/device_ingestor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"

namespace medhub::ingest {
namespace {

// Reading (device, seq) as the store returns it, found by its identifier.
Result<store::StoredResource> ReadReading(store::Store* store, std::string_view device,
                                          uint64_t seq) {
  ASSIGN_OR_RETURN(std::string id, ingest::FindReadingObservationId(store, device, seq));
  return store->Read("Observation", id);
}

class DeviceIngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ingest-test-" + NewId().substr(0, 12));
    store_ = store::OpenRocksStore({dir_.string()}).value();
    Put("Patient", "p1", R"({"resourceType":"Patient","id":"p1"})");
    Put("Device", "cuff",
        R"({"resourceType":"Device","id":"cuff","patient":{"reference":"Patient/p1"}})");
    Put("Device", "loose", R"({"resourceType":"Device","id":"loose"})");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(const char* type, const char* id, const char* json) {
    store::WriteOp op;
    op.type = type;
    op.id = id;
    op.resource = json::Parse(json).value();
    ASSERT_TRUE(store_->Commit({std::move(op)}).ok());
  }
  static std::string Batch(std::initializer_list<int> seqs) {
    std::string b = R"({"readings":[)";
    bool first = true;
    for (int s : seqs) {
      if (!first) b += ",";
      first = false;
      b += R"({"seq":)" + std::to_string(s) + R"(,"kind":"heart-rate","value":)" +
           std::to_string(60 + s % 50) + R"(,"unit":"/min","time":"2026-11-29T10:00:00Z"})";
    }
    return b + "]}";
  }
  size_t Observations() {
    fhir::SearchQuery q;
    q.type = "Observation";
    return store_->Search(q).value().size();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  const int64_t now_ = ParseFhirDate("2026-11-29T12:00:00Z", DateKind::kInstant)->low;
};

TEST_F(DeviceIngestorTest, StoresEachReadingAsAnObservationOfTheBoundPatient) {
  DeviceIngestor ingestor(store_.get());
  auto reply = ingestor.Ingest("cuff", Batch({1, 2, 3}), now_);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->stored, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(reply->duplicates.empty());
  auto stored = ReadReading(store_.get(), "cuff", 2);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  json::Value obs = json::Parse(stored->json).value();
  EXPECT_EQ(obs.find("subject")->get_string("reference"), "Patient/p1");
  EXPECT_EQ(obs.find("valueQuantity")->find("value")->text(), "62");
  EXPECT_EQ(Observations(), 3u);
}

TEST_F(DeviceIngestorTest, ARetriedBatchIsReportedAsDuplicatesAndStoredOnlyOnce) {
  DeviceIngestor ingestor(store_.get());
  ASSERT_TRUE(ingestor.Ingest("cuff", Batch({1, 2}), now_).ok());
  auto again = ingestor.Ingest("cuff", Batch({1, 2, 3}), now_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, std::vector<uint64_t>{3});
  EXPECT_EQ(again->duplicates, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Observations(), 3u);
  EXPECT_EQ(ReadReading(store_.get(), "cuff", 1)->version, 1u);
}

TEST_F(DeviceIngestorTest, AcknowledgedReadingsSurviveAReopenAndTheirRetryIsADuplicate) {
  {
    DeviceIngestor ingestor(store_.get());
    auto reply = ingestor.Ingest("cuff", Batch({7, 8}), now_);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->stored, (std::vector<uint64_t>{7, 8}));
  }
  store_.reset();  // the process goes away; only what was synced remains
  store_ = store::OpenRocksStore({dir_.string()}).value();
  DeviceIngestor ingestor(store_.get());
  auto again = ingestor.Ingest("cuff", Batch({7, 8, 9}), now_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->stored, std::vector<uint64_t>{9});
  EXPECT_EQ(again->duplicates, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(Observations(), 3u);
  EXPECT_EQ(ReadReading(store_.get(), "cuff", 8)->version, 1u);
}

TEST_F(DeviceIngestorTest, ConcurrentRetriesOfTheSameBatchStoreEveryReadingExactlyOnce) {
  DeviceIngestor ingestor(store_.get());
  std::vector<std::thread> threads;
  std::atomic<size_t> stored{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      auto r = ingestor.Ingest("cuff", Batch({1, 2, 3, 4, 5}), now_);
      if (r.ok()) stored += r->stored.size();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), 5u);
  EXPECT_EQ(Observations(), 5u);
}

TEST_F(DeviceIngestorTest, RejectedReadingsAreNotStoredAndTheRestOfTheBatchIs) {
  DeviceIngestor ingestor(store_.get());
  auto reply = ingestor.Ingest(
      "cuff",
      R"({"readings":[{"seq":1,"kind":"blood-pressure","values":[900,80],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"},
                      {"seq":2,"kind":"glucose","value":5.5,"unit":"mmol/L","time":"2026-11-29T10:00:00Z"}]})",
      now_);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->stored, std::vector<uint64_t>{2});
  ASSERT_EQ(reply->rejected.size(), 1u);
  EXPECT_EQ(reply->rejected[0].seq, 1u);
  EXPECT_EQ(Observations(), 1u);
  const std::string json = reply->ToJson("cuff");
  EXPECT_NE(json.find(R"("stored":[2])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("seq":1,"reason":"impossible)"), std::string::npos) << json;
}

TEST_F(DeviceIngestorTest, UnknownAndUnboundDevicesAreRefusedAndNothingIsWritten) {
  DeviceIngestor ingestor(store_.get());
  EXPECT_EQ(ingestor.Ingest("nobody", Batch({1}), now_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ingestor.Ingest("loose", Batch({1}), now_).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ingestor.Ingest("bad id!", Batch({1}), now_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Observations(), 0u);
}

}  // namespace
}  // namespace medhub::ingest
