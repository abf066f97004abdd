#include "sync/source.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"

namespace medhub::sync {
namespace {

class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-sync-src-" + NewId());
    auto s = store::OpenRocksStore({dir_.string()});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(SourceTest, SourcesAreStoredListedAndReadBack) {
  ASSERT_TRUE(PutSource(store_.get(), {"east", "http://127.0.0.1:1/fhir", "", "c", "/s", ""}).ok());
  ASSERT_TRUE(PutSource(store_.get(), {"west", "https://w.org/fhir", "tok", "", "", ""}).ok());
  auto east = GetSource(store_.get(), "east");
  ASSERT_TRUE(east.ok());
  EXPECT_EQ(east->client_id, "c");
  EXPECT_EQ(east->client_secret_file, "/s");
  auto all = ListSources(store_.get());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].token, "tok");
  EXPECT_EQ(GetSource(store_.get(), "north").status().code(), StatusCode::kNotFound);
}

TEST_F(SourceTest, BadNamesUrlsAndCredentialCombinationsAreRejected) {
  EXPECT_FALSE(PutSource(store_.get(), {"East", "http://h/fhir", "", "", "", ""}).ok());
  EXPECT_FALSE(PutSource(store_.get(), {"a-b", "http://h/fhir", "", "", "", ""}).ok());
  EXPECT_FALSE(PutSource(store_.get(), {"a", "ftp://h/fhir", "", "", "", ""}).ok());
  EXPECT_FALSE(PutSource(store_.get(), {"a", "http://h/fhir/", "", "", "", ""}).ok());
  EXPECT_FALSE(PutSource(store_.get(), {"a", "http://h/fhir", "t", "c", "/s", ""}).ok());
  EXPECT_FALSE(PutSource(store_.get(), {"a", "http://h/fhir", "", "c", "", ""}).ok());
  auto all = ListSources(store_.get());
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(SourceTest, CheckpointRoundTripsAndStartsEmpty) {
  auto fresh = GetCheckpoint(store_.get(), "east");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->since_text.empty());
  Checkpoint c;
  c.since = 1234567;
  c.since_text = "1970-01-01T00:00:01.234567Z";
  c.boundary = {"Patient/p/1", "Observation/o/2"};
  c.runs = 3;
  c.resources = 99;
  ASSERT_TRUE(PutCheckpoint(store_.get(), "east", c).ok());
  auto back = GetCheckpoint(store_.get(), "east");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->since, c.since);
  EXPECT_EQ(back->since_text, c.since_text);
  EXPECT_EQ(back->boundary, c.boundary);
  EXPECT_EQ(back->runs, 3u);
  EXPECT_EQ(back->resources, 99u);
}

}  // namespace
}  // namespace medhub::sync
