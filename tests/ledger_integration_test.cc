// The ledger tied to the store: Synthea bundles are imported with a LedgerWriter running;
// every version in the change feed must then have exactly one leaf whose commitment is
// SHA-256(salt || stored bytes) and whose inclusion proof verifies against the signed tree
// head, checked with the public key from members.json alone. Closing and reopening store
// and ledger resumes at the right change with no duplicates or gaps.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/importer.h"
#include "core/hash.h"
#include "ledger/ledger_writer.h"
#include "ledger/member_files.h"
#include "ledger/test_util.h"
#include "ledger/verify.h"
#include "server/fhir_api.h"
#include "server/ledger_api.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;
using ledger::testing::TempDir;

class LedgerIntegrationTest : public ::testing::Test {
 protected:
  void Open() {
    store_ = store::OpenRocksStore({dir_ / "data"}).value();
    ledger::LedgerOptions options;
    options.dir = dir_ / "data/ledger";
    auto ledger = ledger::Ledger::Open(options);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
    writer_ = std::make_unique<ledger::LedgerWriter>(store_.get(), ledger_.get());
    writer_->Start();
    ledger_api_ = std::make_unique<server::LedgerApi>(ledger_.get(), store_.get());
    api_ = std::make_unique<server::FhirApi>(
        store_.get(), server::FhirApiOptions{"http://test/fhir", ledger_api_.get()});
  }
  void Close() {
    ASSERT_TRUE(writer_->Stop().ok());
    api_.reset();
    ledger_api_.reset();
    writer_.reset();
    ledger_.reset();
    store_.reset();
  }

  // Imports Synthea files [begin, end) (in name order) on two threads.
  void Import(size_t begin, size_t end) {
    auto files = cli::Importer::ListFiles({std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"});
    ASSERT_TRUE(files.ok());
    ASSERT_GE(files->size(), end);
    const std::vector<std::string> some(files->begin() + begin, files->begin() + end);
    cli::Importer importer(api_.get());
    cli::ImportStats stats;
    ASSERT_TRUE(importer.ImportFiles(some, 2, &stats, [](size_t, const cli::ImportStats&) {}).ok());
    ASSERT_EQ(stats.resources_failed, 0u);
    ASSERT_TRUE(writer_->WaitForSequence(store_->LastSequence(), 60s).ok());
  }

  PublicKey TrustedKey() {
    const auto members = ledger::ReadMembers(dir_ / "data/ledger/members.json").value();
    return members.at(0).public_key;
  }

  // Every change has one leaf, in feed order, committing to the stored bytes, with an
  // inclusion proof against the signed head.
  void ExpectEveryVersionProvablyOnTheLedger() {
    const std::vector<store::Change> changes = store_->ChangesSince(0, 1 << 22).value();
    ASSERT_FALSE(changes.empty());
    const ledger::SignedTreeHead sth = ledger_->Head();
    ASSERT_TRUE(ledger::VerifyTreeHead(sth, TrustedKey()).ok());
    ASSERT_EQ(sth.head.tree_size, 1 + changes.size());  // MemberAdded + one per version
    for (size_t i = 0; i < changes.size(); ++i) {
      const store::Change& c = changes[i];
      const std::string name = ledger::RecordName(c.type, c.id, c.version);
      const uint64_t leaf = ledger_->LookupLeaf(c.type, c.id, c.version).value();
      ASSERT_EQ(leaf, i + 1) << name << ": leaves follow the change feed";
      const std::string bytes = ledger_->EntryBytes(leaf).value();
      const ledger::Entry entry = ledger::DecodeEntry(bytes).value();
      const store::StoredResource v = store_->ReadVersion(c.type, c.id, c.version).value();
      const ledger::Hash want = v.deleted ? Sha256(std::string(32, '\0')) : Sha256(v.salt + v.json);
      ASSERT_EQ(ledger::AsRecord(entry)->commitment, want) << name;
      ASSERT_EQ(ledger::AsRecord(entry)->seq, c.seq) << name;
      const ledger::Proof proof = ledger_->InclusionProof(leaf, sth.head.tree_size).value();
      ASSERT_TRUE(ledger::VerifyInclusion(leaf, sth.head.tree_size, ledger::HashLeaf(bytes), proof,
                                          sth.head.root)
                      .ok())
          << name;
    }
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ledger::LedgerWriter> writer_;
  std::unique_ptr<server::LedgerApi> ledger_api_;
  std::unique_ptr<server::FhirApi> api_;
};

TEST_F(LedgerIntegrationTest, ImportedVersionsAreProvablyOnTheLedgerAcrossRestarts) {
  Open();
  Import(0, 8);
  ExpectEveryVersionProvablyOnTheLedger();
  const uint64_t seq = store_->LastSequence();
  const uint64_t size = ledger_->tree_size();
  const ledger::Hash root = ledger_->Head().head.root;
  Close();

  Open();
  EXPECT_EQ(ledger_->last_seq(), seq);
  EXPECT_EQ(ledger_->tree_size(), size);
  Import(0, 8);  // a re-import changes nothing: no new versions, no new entries
  EXPECT_EQ(store_->LastSequence(), seq);
  EXPECT_EQ(ledger_->tree_size(), size);
  Import(8, 14);
  ExpectEveryVersionProvablyOnTheLedger();
  // The new head extends the old one.
  const ledger::SignedTreeHead sth = ledger_->Head();
  const ledger::Proof consistency = ledger_->ConsistencyProof(size, sth.head.tree_size).value();
  EXPECT_TRUE(
      ledger::VerifyConsistency(size, sth.head.tree_size, root, sth.head.root, consistency).ok());
  Close();

  store_ = store::OpenRocksStore({dir_ / "data"}).value();
  ledger::LedgerOptions options;
  options.dir = dir_ / "data/ledger";
  Result<ledger::VerifyReport> report = ledger::VerifyLedger(options, store_.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, store_->ChangesSince(0, 1 << 22).value().size());
}

TEST_F(LedgerIntegrationTest, VerifyAnswersCheckOutForImportedRecords) {
  Open();
  Import(0, 2);
  const std::vector<store::Change> changes = store_->ChangesSince(0, 200).value();
  for (size_t i = 0; i < changes.size(); i += 17) {
    const store::Change& c = changes[i];
    const store::StoredResource v = store_->ReadVersion(c.type, c.id, c.version).value();
    const json::Value params =
        server::VerifyParameters(*ledger_, store_.get(), c.type, c.id, c.version).value();
    EXPECT_TRUE(ledger::testing::CheckVerifyParameters(params, v.json, TrustedKey()).ok())
        << ledger::RecordName(c.type, c.id, c.version);
  }
  Close();
}

}  // namespace
}  // namespace medhub
