#include "cli/importer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "store/store.h"

namespace medhub::cli {
namespace {

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-importer-" + NewId());
    auto s = store::OpenRocksStore({dir_.string()});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    api_ = std::make_unique<server::FhirApi>(store_.get(), server::FhirApiOptions{});
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<server::FhirApi> api_;
};

TEST_F(ImporterTest, NdjsonLinesAreImportedInBatchesAndBadLinesAreCountedWithTheirNumber) {
  Importer importer(api_.get(), /*ndjson_batch=*/2);
  ImportStats stats;
  importer.ImportNdjson("x.ndjson",
                        "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n"
                        "\n"
                        "{\"resourceType\":\"Patient\",\"id\":\"b\"}\r\n"
                        "not json\n"
                        "{\"resourceType\":\"Patient\",\"id\":\"c\"}",
                        &stats);
  EXPECT_EQ(stats.resources_ok, 3u);
  EXPECT_EQ(stats.resources_failed, 1u);
  ASSERT_EQ(stats.errors.size(), 1u);
  EXPECT_EQ(stats.errors[0].rfind("x.ndjson:4: ", 0), 0u) << stats.errors[0];
  EXPECT_TRUE(store_->Read("Patient", "c").ok());
}

TEST_F(ImporterTest, ASingleResourceFileKeepsItsIdAndReimportIsANoOp) {
  Importer importer(api_.get());
  ImportStats stats;
  const std::string doc = R"({"resourceType":"Organization","id":"org1","name":"Clinic"})";
  importer.ImportJson("org.json", doc, &stats);
  const uint64_t seq = store_->LastSequence();
  importer.ImportJson("org.json", doc, &stats);
  EXPECT_EQ(stats.resources_ok, 2u);
  EXPECT_EQ(store_->LastSequence(), seq);
  auto r = store_->Read("Organization", "org1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 1u);
}

TEST_F(ImporterTest, MissingPathsAreReportedNotSkipped) {
  auto files = Importer::ListFiles({"/no/such/place"});
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace medhub::cli
