#include "ledger/ledger_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "fhir/resource.h"
#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

using namespace std::chrono_literals;
using testing::ReadFileBytes;
using testing::TempDir;
using testing::WriteFileBytes;

class LedgerWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    ledger_.reset();
    store_.reset();
    store_ = store::OpenRocksStore({dir_ / "data"}).value();
    LedgerOptions options;
    options.dir = dir_ / "data/ledger";
    options.log = [this](std::string_view m) { notes_.emplace_back(m); };
    auto ledger = Ledger::Open(options);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
  }

  // Commits `n` versions (new resources and updates) in commits of 1 to 3 writes.
  void CommitVersions(int n, const std::string& prefix = "o") {
    for (int i = 0; i < n;) {
      std::vector<store::WriteOp> ops;
      for (int k = 0; k < 1 + i % 3 && i < n; ++k, ++i) {
        const std::string id = prefix + std::to_string(i % 7);
        auto r = fhir::ParseResource(R"({"resourceType":"Observation","id":")" + id +
                                     R"(","status":"final","code":{"text":"step )" +
                                     std::to_string(i) + R"("}})");
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        store::WriteOp op;
        op.type = "Observation";
        op.id = id;
        op.resource = std::move(r).value();
        ops.push_back(std::move(op));
      }
      ASSERT_TRUE(store_->Commit(std::move(ops)).ok());
    }
  }

  // Every change of the feed has exactly its entry, with the version's commitment.
  void ExpectLedgerMatchesStore() {
    const std::vector<store::Change> changes = store_->ChangesSince(0, 1 << 20).value();
    ASSERT_EQ(ledger_->last_seq(), store_->LastSequence());
    ASSERT_EQ(ledger_->tree_size(), 1 + changes.size());  // MemberAdded + one per change
    for (const store::Change& c : changes) {
      Result<uint64_t> leaf = ledger_->LookupLeaf(c.type, c.id, c.version);
      ASSERT_TRUE(leaf.ok()) << RecordName(c.type, c.id, c.version);
      const Entry entry = DecodeEntry(ledger_->EntryBytes(*leaf).value()).value();
      const store::StoredResource v = store_->ReadVersion(c.type, c.id, c.version).value();
      EXPECT_EQ(AsRecord(entry)->seq, c.seq);
      EXPECT_EQ(AsRecord(entry)->commitment, Sha256(v.salt + v.json));
    }
  }

  TempDir dir_;
  std::vector<std::string> notes_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerWriterTest, EveryCommittedVersionReachesTheLedgerWhileWritersRun) {
  LedgerWriter writer(store_.get(), ledger_.get(), {.max_block_entries = 16});
  writer.Start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([this, t] { CommitVersions(60, "t" + std::to_string(t) + "-"); });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(writer.WaitForSequence(store_->LastSequence(), 10s).ok());
  ASSERT_TRUE(writer.Stop().ok());
  ExpectLedgerMatchesStore();
}

TEST_F(LedgerWriterTest, StopCommitsEverythingPublishedBeforeIt) {
  LedgerWriter writer(store_.get(), ledger_.get());
  writer.Start();
  CommitVersions(50);
  ASSERT_TRUE(writer.Stop().ok());
  ExpectLedgerMatchesStore();
}

TEST_F(LedgerWriterTest, BlocksHoldAtMostTheConfiguredNumberOfEntries) {
  CommitVersions(35);
  LedgerWriter writer(store_.get(), ledger_.get(), {.max_block_entries = 10});
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ledger_->height(), 1u + 4u);
  EXPECT_EQ(ledger_->ReadBlock(4).value().entries.size(), 5u);
  EXPECT_EQ(ledger_->ReadBlock(4).value().header.last_seq, store_->LastSequence());
}

TEST_F(LedgerWriterTest, ChangesCommittedWhileTheLedgerWasDownAreAddedOnRestart) {
  {
    LedgerWriter writer(store_.get(), ledger_.get());
    CommitVersions(20);
    ASSERT_TRUE(writer.CatchUp().ok());
  }
  const uint64_t covered = ledger_->last_seq();
  ledger_.reset();  // the ledger "crashes"; the store keeps committing
  CommitVersions(13, "late");
  Reopen();
  EXPECT_EQ(ledger_->last_seq(), covered);
  LedgerWriter writer(store_.get(), ledger_.get());
  ASSERT_TRUE(writer.CatchUp().ok());
  ExpectLedgerMatchesStore();
}

TEST_F(LedgerWriterTest, ABlockTornByACrashIsRecommittedWithoutGapsOrDuplicates) {
  {
    LedgerWriter writer(store_.get(), ledger_.get(), {.max_block_entries = 8});
    CommitVersions(30);
    ASSERT_TRUE(writer.CatchUp().ok());
  }
  ledger_.reset();
  const std::string path = dir_ / "data/ledger/blocks.log";
  const std::string whole = ReadFileBytes(path);
  WriteFileBytes(path, whole.substr(0, whole.size() - 100));
  Reopen();
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_LT(ledger_->last_seq(), store_->LastSequence());
  LedgerWriter writer(store_.get(), ledger_.get(), {.max_block_entries = 8});
  ASSERT_TRUE(writer.CatchUp().ok());
  ExpectLedgerMatchesStore();
}

TEST_F(LedgerWriterTest, WaitForSequenceTimesOutWhenNothingCommits) {
  CommitVersions(3);
  LedgerWriter writer(store_.get(), ledger_.get());  // not started
  EXPECT_EQ(writer.WaitForSequence(store_->LastSequence(), 50ms).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(writer.WaitForSequence(0, 50ms).ok());
}

}  // namespace
}  // namespace medhub::ledger
