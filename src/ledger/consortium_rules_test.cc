// The chain rules as a consortium member applies them to blocks other members propose:
// three in-process ledgers opened in consortium mode, blocks passed between them by hand
// (the ZooKeeper ordering itself is exercised by tests/consortium_test.cc).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

using testing::ReadFileBytes;
using testing::TempDir;

RecordCommitted Record(const std::string& institution, uint64_t seq, const std::string& id) {
  RecordCommitted r;
  r.seq = seq;
  r.type = "Patient";
  r.id = id;
  r.version = 1;
  r.institution = institution;
  r.commitment.fill(0x5a);
  return r;
}

class ConsortiumRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<PrivateKey> keys;
    for (const char* name : {"a", "b", "c"}) {
      keys.push_back(PrivateKey::Generate().value());
      members_.push_back({name, keys.back().public_key()});
      ASSERT_TRUE(
          WriteFileAtomically(dir_ / (std::string(name) + ".key"), keys.back().Pem(), 0600).ok());
    }
    for (const MemberInfo& m : members_) {
      LedgerOptions options;
      options.dir = dir_ / ("ledger-" + m.name);
      options.member = m.name;
      options.key_file = dir_ / (m.name + ".key");
      options.consortium = members_;
      auto ledger = Ledger::Open(options);
      ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
      ledgers_.push_back(std::move(ledger).value());
    }
    // Block 0 from a, with a MemberAdded for every member, appended by all.
    auto genesis = ledgers_[0]->ProposeGenesis(members_);
    ASSERT_TRUE(genesis.ok());
    for (auto& l : ledgers_) ASSERT_TRUE(l->AppendBlock(*genesis).ok());
  }

  // A block of b's with records seq 1..n, endorsed by b only.
  Block ProposeFromB(uint64_t n = 2) {
    std::vector<Entry> entries;
    for (uint64_t i = 1; i <= n; ++i) entries.push_back(Record("b", i, "p" + std::to_string(i)));
    return ledgers_[1]->Propose(std::move(entries), n).value();
  }

  void Endorse(Block* block, int member) {
    const Hash hash = BlockHash(block->header).value();
    block->endorsements.push_back({members_[member].name, ledgers_[member]->Endorse(hash).value()});
  }

  TempDir dir_;
  std::vector<MemberInfo> members_;
  std::vector<std::unique_ptr<Ledger>> ledgers_;
};

TEST_F(ConsortiumRulesTest, EveryMemberHoldsTheSameGenesisWithAllThreeMembers) {
  for (auto& l : ledgers_) {
    EXPECT_EQ(l->height(), 1u);
    EXPECT_EQ(l->tree_size(), 3u);
    EXPECT_EQ(l->Head().head.root, ledgers_[0]->Head().head.root);
    EXPECT_TRUE(l->MemberKey("c").ok());
  }
}

TEST_F(ConsortiumRulesTest, AProposalEndorsedOnlyByItsProposerIsValidButNotYetAppended) {
  Block block = ProposeFromB();
  EXPECT_TRUE(ledgers_[0]->CheckProposal(block).ok());
  EXPECT_EQ(ledgers_[0]->EndorsementsNeeded(), 2u);
  const Status refused = ledgers_[0]->AppendBlock(block).status();
  EXPECT_EQ(refused.code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.message().find("majority"), std::string::npos);
  EXPECT_EQ(ledgers_[0]->height(), 1u);
}

TEST_F(ConsortiumRulesTest, AProposalEndorsedByAMajorityIsAppendedByEveryMember) {
  Block block = ProposeFromB();
  Endorse(&block, 2);
  for (auto& l : ledgers_) ASSERT_TRUE(l->AppendBlock(block).ok());
  for (auto& l : ledgers_) {
    EXPECT_EQ(l->tree_size(), 5u);
    EXPECT_EQ(l->Head().head.root, ledgers_[0]->Head().head.root);
  }
  EXPECT_EQ(ledgers_[1]->last_seq(), 2u);
  EXPECT_EQ(ledgers_[0]->last_seq(), 0u);  // a's own feed is not covered by b's block
}

TEST_F(ConsortiumRulesTest, ACheckedProposalIsAppendedOnlyOnceAMajorityEndorsedIt) {
  auto checked = ledgers_[0]->CheckProposal(ProposeFromB());
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(ledgers_[0]->AppendChecked(*checked).status().code(), StatusCode::kDataLoss);
  Endorse(&checked->block, 0);
  ASSERT_TRUE(ledgers_[0]->AppendChecked(*checked).ok());
  EXPECT_EQ(ledgers_[0]->tree_size(), 5u);
  // The same block again no longer links to the head.
  EXPECT_EQ(ledgers_[0]->AppendChecked(*checked).status().code(), StatusCode::kDataLoss);
}

TEST_F(ConsortiumRulesTest, AnEndorsementWithABadSignatureIsRefused) {
  Block block = ProposeFromB();
  Endorse(&block, 2);
  block.endorsements.back().signature[0] ^= 1;
  EXPECT_EQ(ledgers_[0]->CheckProposal(block).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ledgers_[0]->AppendBlock(block).status().code(), StatusCode::kDataLoss);
}

TEST_F(ConsortiumRulesTest, AnEndorsementFromANonMemberIsRefused) {
  Block block = ProposeFromB();
  const PrivateKey outsider = PrivateKey::Generate().value();
  block.endorsements.push_back(
      {"mallory", outsider.Sign(EndorsementMessage(BlockHash(block.header).value())).value()});
  EXPECT_EQ(ledgers_[0]->CheckProposal(block).status().code(), StatusCode::kDataLoss);
}

TEST_F(ConsortiumRulesTest, AProposerSignatureThatDoesNotVerifyIsRefused) {
  Block block = ProposeFromB();
  block.proposer_signature[10] ^= 1;
  EXPECT_EQ(ledgers_[0]->CheckProposal(block).status().code(), StatusCode::kDataLoss);
}

TEST_F(ConsortiumRulesTest, ASecondBlockAtAHeightAlreadyTakenIsRefused) {
  Block first = ProposeFromB(1);
  Block second = ledgers_[2]->Propose({Record("c", 1, "q1")}, 1).value();
  EXPECT_EQ(first.header.height, second.header.height);
  Endorse(&first, 0);
  ASSERT_TRUE(ledgers_[0]->AppendBlock(first).ok());
  const Status s = ledgers_[0]->CheckProposal(second).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("height"), std::string::npos);
}

TEST_F(ConsortiumRulesTest, ABlockThatDoesNotLinkToThePreviousBlockIsRefused) {
  Block block = ProposeFromB();
  block.header.previous_hash[0] ^= 1;
  block = SealBlock(block.header, block.entries,
                    PrivateKey::FromPem(ReadFileBytes(dir_ / "b.key")).value())
              .value();
  const Status s = ledgers_[0]->CheckProposal(block).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("previous block hash"), std::string::npos);
}

TEST_F(ConsortiumRulesTest, ARecordOfAnotherInstitutionThanTheProposerIsRefused) {
  // b cannot put a's records on the ledger, even signed by b.
  EXPECT_FALSE(ledgers_[1]->Propose({Record("a", 1, "x")}, 1).ok());
  Block block = ProposeFromB(1);
  block.entries[0] = EncodeEntry(Record("a", 1, "p1")).value();
  const Status s = ledgers_[0]->CheckProposal(block).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);  // entries root no longer matches, or the rule
}

TEST_F(ConsortiumRulesTest, AMemberNeverAppendsItsOwnBlockWithoutTheConsortium) {
  const Status s = ledgers_[0]->Append({Record("a", 1, "x")}, 1).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledgers_[0]->height(), 1u);
}

TEST_F(ConsortiumRulesTest, AReopenedMemberReplaysTheConsortiumsBlocks) {
  Block block = ProposeFromB();
  Endorse(&block, 0);
  ASSERT_TRUE(ledgers_[2]->AppendBlock(block).ok());
  const Hash root = ledgers_[2]->Head().head.root;
  ledgers_[2].reset();
  LedgerOptions options;
  options.dir = dir_ / "ledger-c";
  options.member = "c";
  options.key_file = dir_ / "c.key";
  options.consortium = members_;
  auto reopened = Ledger::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->height(), 2u);
  EXPECT_EQ((*reopened)->Head().head.root, root);
}

}  // namespace
}  // namespace medhub::ledger
