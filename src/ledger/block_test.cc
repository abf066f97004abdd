#include "ledger/block.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ed25519.h"
#include "core/hash.h"
#include "ledger/state.h"
#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

Entry Record(uint64_t seq, std::string id, uint64_t version = 1, std::string member = "a") {
  RecordFields r;
  r.seq = seq;
  r.type = "Observation";
  r.id = std::move(id);
  r.version = version;
  r.institution = std::move(member);
  r.commitment = Sha256("content " + std::to_string(seq));
  return RecordCommitted{r};
}

// Builds and checks blocks against a LedgerState the way Ledger does.
class Chain {
 public:
  Chain() : key_(PrivateKey::Generate().value()) {}

  const PrivateKey& key() const { return key_; }
  const LedgerState& state() const { return state_; }

  // The next block, sealed by `key` (default: the member's key).
  Block Next(const std::vector<Entry>& entries, uint64_t last_seq,
             const PrivateKey* key = nullptr) {
    std::vector<std::string> bytes;
    std::vector<Hash> leaves;
    for (const Entry& e : entries) {
      bytes.push_back(EncodeEntry(e).value());
      leaves.push_back(HashLeaf(bytes.back()));
    }
    BlockHeader h;
    h.height = state_.height();
    h.previous_hash = state_.last_hash();
    h.first_leaf = state_.log().size();
    h.entry_count = static_cast<uint32_t>(entries.size());
    h.entries_root = RootFromLeafHashes(leaves);
    h.log_size = h.first_leaf + h.entry_count;
    h.log_root = RootAfterAppend(state_.log(), leaves);
    h.timestamp_us = 1000 + static_cast<int64_t>(h.height);
    h.last_seq = last_seq;
    h.proposer = "a";
    return SealBlock(h, bytes, key ? *key : key_).value();
  }
  Block Genesis() { return Next({MemberAdded{"a", key_.public_key().Raw()}}, 0); }

  Status Add(Block block) {
    Result<CheckedBlock> checked = state_.Check(std::move(block));
    if (!checked.ok()) return checked.status();
    state_.Apply(std::move(checked).value());
    return Status::Ok();
  }

 private:
  PrivateKey key_;
  LedgerState state_;
};

// Re-signs a block after its header was changed, as a forger with the key would.
Block Resealed(Block b, const PrivateKey& key) {
  return SealBlock(b.header, b.entries, key).value();
}

TEST(LedgerBlockTest, BlocksRoundTripAndDecodingIsStrict) {
  Chain chain;
  const Block block = chain.Genesis();
  const std::string bytes = EncodeBlock(block).value();
  Result<Block> back = DecodeBlock(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, block);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeBlock(bytes.substr(0, n)).status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeBlock(bytes + "x").status().code(), StatusCode::kDataLoss);
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(DecodeBlock(bad).status().code(), StatusCode::kDataLoss);
  bad = bytes;
  bad[4] = 2;
  EXPECT_EQ(DecodeBlock(bad).status().code(), StatusCode::kDataLoss);
}

TEST(LedgerBlockTest, TheHeaderHasTheDocumentedSizeAndTheHashCoversIt) {
  Chain chain;
  const Block block = chain.Genesis();
  const std::string header = EncodeBlockHeader(block.header).value();
  EXPECT_EQ(header.size(), 146u + 1u);
  EXPECT_EQ(header.substr(0, 5), std::string("MHBK\x01"));
  EXPECT_EQ(BlockHash(block.header).value(), Sha256(header));
  EXPECT_EQ(ProposalMessage(Hash{}).substr(0, 4), "MHBP");
  EXPECT_EQ(EndorsementMessage(Hash{}).substr(0, 4), "MHBE");
}

TEST(LedgerBlockTest, SealedBlocksCarryVerifyingProposerAndEndorsementSignatures) {
  Chain chain;
  const Block block = chain.Genesis();
  const Hash hash = BlockHash(block.header).value();
  const PublicKey& pub = chain.key().public_key();
  EXPECT_TRUE(pub.Verify(ProposalMessage(hash), block.proposer_signature).ok());
  ASSERT_EQ(block.endorsements.size(), 1u);
  EXPECT_EQ(block.endorsements[0].member, "a");
  EXPECT_TRUE(pub.Verify(EndorsementMessage(hash), block.endorsements[0].signature).ok());
  // The two signatures are not interchangeable.
  EXPECT_FALSE(pub.Verify(EndorsementMessage(hash), block.proposer_signature).ok());
}

TEST(LedgerBlockTest, ContentChecksCatchAChangedEntryAndInconsistentCounts) {
  Chain chain;
  Block block = chain.Next({Record(1, "x"), Record(2, "y")}, 2);
  EXPECT_TRUE(CheckBlockContents(block).ok());
  Block changed = block;
  changed.entries[1][5] ^= 1;
  EXPECT_EQ(CheckBlockContents(changed).code(), StatusCode::kDataLoss);
  changed = block;
  changed.header.log_size += 1;
  EXPECT_EQ(CheckBlockContents(changed).code(), StatusCode::kDataLoss);
  changed = block;
  changed.entries.pop_back();
  EXPECT_EQ(CheckBlockContents(changed).code(), StatusCode::kDataLoss);
}

TEST(LedgerRootAfterAppendTest, EqualsTheLogRootAfterAppendingForManySizes) {
  for (uint64_t start = 0; start < 40; ++start) {
    for (uint64_t add = 1; add < 20; add += 3) {
      MerkleLog log;
      for (uint64_t i = 0; i < start; ++i) log.AppendLeaf("leaf " + std::to_string(i));
      std::vector<Hash> more;
      for (uint64_t i = start; i < start + add; ++i)
        more.push_back(HashLeaf("leaf " + std::to_string(i)));
      const Hash predicted = RootAfterAppend(log, more);
      for (const Hash& h : more) log.AppendLeafHash(h);
      EXPECT_EQ(predicted, log.Root()) << start << "+" << add;
    }
  }
}

TEST(LedgerStateTest, AcceptsAValidChainAndIndexesItsRecords) {
  Chain chain;
  ASSERT_TRUE(chain.Add(chain.Genesis()).ok());
  ASSERT_TRUE(chain.Add(chain.Next({Record(1, "x"), Record(3, "y")}, 4)).ok());
  ASSERT_TRUE(chain.Add(chain.Next({Record(5, "x", 2)}, 5)).ok());
  EXPECT_EQ(chain.state().height(), 3u);
  EXPECT_EQ(chain.state().log().size(), 4u);
  EXPECT_EQ(chain.state().LastSeq("a"), 5u);
  EXPECT_EQ(chain.state().LookupRecord("a", "Observation", "y", 1), 2u);
  EXPECT_EQ(chain.state().LookupRecord("a", "Observation", "x", 2), 3u);
  EXPECT_FALSE(chain.state().LookupRecord("a", "Observation", "x", 3).has_value());
}

TEST(LedgerStateTest, Block0MustAddItsProposerWithTheSigningKey) {
  Chain chain;
  EXPECT_EQ(chain.Add(chain.Next({Record(1, "x")}, 1)).code(), StatusCode::kDataLoss);
  const PrivateKey other = PrivateKey::Generate().value();
  Block forged = chain.Next({MemberAdded{"a", other.public_key().Raw()}}, 0);
  EXPECT_EQ(chain.Add(forged).code(), StatusCode::kDataLoss);  // signed by chain.key()
  EXPECT_TRUE(chain.Add(chain.Genesis()).ok());
}

TEST(LedgerStateTest, RejectsBlocksThatBreakTheChain) {
  Chain chain;
  ASSERT_TRUE(chain.Add(chain.Genesis()).ok());
  const Block good = chain.Next({Record(1, "x")}, 1);
  auto rejected = [&](const Block& b) { return chain.Add(b).code() == StatusCode::kDataLoss; };
  Block b = good;
  b.header.height = 5;
  EXPECT_TRUE(rejected(Resealed(b, chain.key())));
  b = good;
  b.header.previous_hash[0] ^= 1;
  EXPECT_TRUE(rejected(Resealed(b, chain.key())));
  b = good;
  b.header.timestamp_us = 0;
  EXPECT_TRUE(rejected(Resealed(b, chain.key())));
  b = good;
  b.header.log_root[3] ^= 1;
  EXPECT_TRUE(rejected(Resealed(b, chain.key())));
  b = good;
  b.header.last_seq = 7;  // changed after signing
  EXPECT_TRUE(rejected(b));
  b = good;
  b.proposer_signature[10] ^= 1;
  EXPECT_TRUE(rejected(b));
  b = good;
  b.endorsements.clear();
  EXPECT_TRUE(rejected(b));
  b = good;
  b.endorsements.push_back(b.endorsements[0]);
  EXPECT_TRUE(rejected(b));
  const PrivateKey stranger = PrivateKey::Generate().value();
  EXPECT_TRUE(rejected(Resealed(good, stranger)));
  EXPECT_TRUE(chain.Add(good).ok());
}

TEST(LedgerStateTest, RecordsMustRiseInSequenceWithinTheBlockRangeAndNeverRepeat) {
  Chain chain;
  ASSERT_TRUE(chain.Add(chain.Genesis()).ok());
  ASSERT_TRUE(chain.Add(chain.Next({Record(5, "x")}, 5)).ok());
  auto rejected = [&](const std::vector<Entry>& entries, uint64_t last_seq) {
    return chain.Add(chain.Next(entries, last_seq)).code() == StatusCode::kDataLoss;
  };
  EXPECT_TRUE(rejected({Record(5, "y")}, 5));                  // not after last_seq
  EXPECT_TRUE(rejected({Record(7, "y"), Record(6, "z")}, 7));  // not rising
  EXPECT_TRUE(rejected({Record(9, "y")}, 8));                  // beyond the block's last_seq
  EXPECT_TRUE(rejected({Record(6, "x")}, 6));                  // Observation/x/1 again
  EXPECT_TRUE(rejected({Record(6, "y", 1, "b")}, 6));          // another institution
  EXPECT_TRUE(rejected({MemberAdded{"a", chain.key().public_key().Raw()}}, 5));  // twice
  EXPECT_TRUE(rejected({Record(6, "y")}, 4));  // last_seq going back
  EXPECT_TRUE(chain.Add(chain.Next({Record(6, "y"), Record(8, "z")}, 9)).ok());
}

Entry Audit(uint64_t seq, std::string id, std::string member = "a") {
  Entry e = Record(seq, std::move(id), 1, std::move(member));
  std::get<RecordCommitted>(e).type = "AuditEvent";
  return e;
}

TEST(LedgerStateTest, AnAccessIsLoggedByItsOwnInstitutionRightAfterItsAuditEvent) {
  Chain chain;
  ASSERT_TRUE(chain.Add(chain.Genesis()).ok());
  const Hash event_hash = Sha256("an AuditEvent");
  auto rejected = [&](const std::vector<Entry>& entries, uint64_t last_seq) {
    return chain.Add(chain.Next(entries, last_seq)).code() == StatusCode::kDataLoss;
  };
  EXPECT_TRUE(rejected({AccessLogged{"a", event_hash}}, 0));                   // alone
  EXPECT_TRUE(rejected({Record(1, "x"), AccessLogged{"a", event_hash}}, 1));  // not an audit
  EXPECT_TRUE(rejected({Audit(1, "e"), AccessLogged{"b", event_hash}}, 1));   // another's
  EXPECT_TRUE(chain.Add(chain.Next({Audit(1, "e"), AccessLogged{"a", event_hash}, Record(2, "x"),
                                    Audit(3, "f"), AccessLogged{"a", event_hash}},
                                   3))
                  .ok());
  EXPECT_EQ(chain.state().LookupRecord("a", "AuditEvent", "f", 1), 4u);
}

TEST(LedgerStateTest, ARotatedKeySignsFromTheNextBlockOn) {
  Chain chain;
  ASSERT_TRUE(chain.Add(chain.Genesis()).ok());
  const PrivateKey next = PrivateKey::Generate().value();
  ASSERT_TRUE(chain.Add(chain.Next({KeyRotated{"a", next.public_key().Raw()}}, 0)).ok());
  EXPECT_EQ(*chain.state().MemberKey("a"), next.public_key());
  EXPECT_EQ(*chain.state().FirstKey("a"), chain.key().public_key());
  EXPECT_EQ(chain.Add(chain.Next({Record(1, "x")}, 1)).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(chain.Add(chain.Next({Record(1, "x")}, 1, &next)).ok());
}

}  // namespace
}  // namespace medhub::ledger
