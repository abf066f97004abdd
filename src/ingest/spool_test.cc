#include "ingest/spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/ids.h"

namespace medhub::ingest {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Spool> Open() {
    auto s = Spool::Open(dir_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string dir_ = (std::filesystem::temp_directory_path() / ("spool-" + NewId())).string();
};

TEST_F(SpoolTest, UnacknowledgedReadingsSurviveAReopenAndAcknowledgedOnesDoNot) {
  {
    auto s = Open();
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(s->Add("d1", s->NextSeq("d1"), "{\"r\":" + std::to_string(i) + "}").ok());
    ASSERT_TRUE(s->Sync().ok());
    EXPECT_EQ(*s->Ack("d1", {0, 2, 7}), 2u);  // 7 was never pending
    EXPECT_EQ(*s->Ack("d1", {0}), 0u);        // already acknowledged
    ASSERT_TRUE(s->Sync().ok());
  }
  auto s = Open();
  const auto pending = s->Pending("d1");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending.begin()->first, 1u);
  EXPECT_EQ(pending.begin()->second, "{\"r\":1}");
  EXPECT_EQ(s->NextSeq("d1"), 3u);  // sequence numbers are never reused
  EXPECT_EQ(s->NextSeq("d2"), 0u);
}

TEST_F(SpoolTest, ATornLastLineIsCutOffAndTheRestIsKept) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Add("d", 0, "{}").ok());
    ASSERT_TRUE(s->Sync().ok());
  }
  std::ofstream(dir_ + "/spool.log", std::ios::app) << "R d 1 {\"half";
  auto s = Open();
  EXPECT_EQ(s->PendingCount(), 1u);
  ASSERT_TRUE(s->Add("d", s->NextSeq("d"), "{}").ok());
  ASSERT_TRUE(s->Sync().ok());
  s.reset();
  EXPECT_EQ(Open()->PendingCount(), 2u);
}

TEST_F(SpoolTest, CompactionKeepsPendingReadingsAndTheNextSequence) {
  {
    auto s = Open();
    for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(s->Add("d", s->NextSeq("d"), "{}").ok());
    ASSERT_TRUE(s->Ack("d", {0, 1, 2, 3}).ok());
    ASSERT_TRUE(s->Compact().ok());
    ASSERT_TRUE(s->Add("d", s->NextSeq("d"), "{}").ok());
    ASSERT_TRUE(s->Sync().ok());
  }
  auto s = Open();
  const auto pending = s->Pending("d");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending.begin()->first, 4u);
  EXPECT_EQ(pending.rbegin()->first, 5u);
  EXPECT_EQ(s->NextSeq("d"), 6u);
}

TEST_F(SpoolTest, AMalformedLineIsDataLoss) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/spool.log") << "R d 0 {}\nX what\n";
  EXPECT_EQ(Spool::Open(dir_).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace medhub::ingest
