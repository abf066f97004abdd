#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/hash.h"
#include "ledger/member_files.h"
#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

using testing::ReadFileBytes;
using testing::TempDir;
using testing::WriteFileBytes;

Entry Record(uint64_t seq, const std::string& id, uint64_t version = 1) {
  RecordFields r;
  r.seq = seq;
  r.type = "Observation";
  r.id = id;
  r.version = version;
  r.institution = "local";
  r.commitment = Sha256("content of " + id);
  return RecordCommitted{r};
}

LedgerOptions Options(const TempDir& dir, std::vector<std::string>* notes = nullptr) {
  LedgerOptions o;
  o.dir = dir / "ledger";
  if (notes) o.log = [notes](std::string_view m) { notes->emplace_back(m); };
  return o;
}

std::unique_ptr<Ledger> MustOpen(const LedgerOptions& options) {
  auto ledger = Ledger::Open(options);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  return ledger.ok() ? std::move(ledger).value() : nullptr;
}

// A ledger with 3 blocks: genesis, 2 records (seq 1, 2), 1 record (seq 4).
void MakeSmallLedger(const TempDir& dir) {
  auto ledger = MustOpen(Options(dir));
  ASSERT_TRUE(ledger->Append({Record(1, "a"), Record(2, "b")}, 2).ok());
  ASSERT_TRUE(ledger->Append({Record(4, "c")}, 4).ok());
}

TEST(LedgerTest, TheFirstOpenCreatesTheKeyTheMembersAndBlock0) {
  TempDir dir;
  auto ledger = MustOpen(Options(dir));
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->height(), 1u);
  EXPECT_EQ(ledger->tree_size(), 1u);
  EXPECT_EQ(ledger->last_seq(), 0u);
  const std::string key_path = dir / "ledger/member.key";
  EXPECT_EQ(std::filesystem::status(key_path).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(ReadMemberKey(key_path).value().public_key(), ledger->public_key());
  const auto members = ReadMembers(dir / "ledger/members.json").value();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "local");
  EXPECT_EQ(members[0].public_key, ledger->public_key());
  const Entry genesis = DecodeEntry(ledger->EntryBytes(0).value()).value();
  EXPECT_EQ(std::get<MemberAdded>(genesis).public_key, ledger->public_key().Raw());
}

TEST(LedgerTest, AppendsSurviveReopeningWithTheSameSignedHead) {
  TempDir dir;
  SignedTreeHead before;
  {
    auto ledger = MustOpen(Options(dir));
    EXPECT_EQ(ledger->Append({Record(1, "a"), Record(2, "b")}, 2).value(), 1u);
    EXPECT_EQ(ledger->Append({Record(4, "c")}, 4).value(), 2u);
    before = ledger->Head();
    EXPECT_EQ(before.head.tree_size, 4u);
  }
  auto ledger = MustOpen(Options(dir));
  EXPECT_EQ(ledger->Head(), before);
  EXPECT_TRUE(VerifyTreeHead(before, ledger->public_key()).ok());
  EXPECT_EQ(ledger->last_seq(), 4u);
  EXPECT_EQ(ledger->LookupLeaf("Observation", "c", 1).value(), 3u);
  EXPECT_EQ(ledger->LookupLeaf("Observation", "c", 2).status().code(), StatusCode::kNotFound);
  const Block block = ledger->ReadBlock(1).value();
  EXPECT_EQ(block.header.first_leaf, 1u);
  EXPECT_EQ(block.header.last_seq, 2u);
  EXPECT_EQ(ledger->ReadBlock(3).status().code(), StatusCode::kNotFound);
}

TEST(LedgerTest, InclusionAndConsistencyProofsVerifyAgainstTheSignedHead) {
  TempDir dir;
  auto ledger = MustOpen(Options(dir));
  uint64_t seq = 0;
  for (int b = 0; b < 20; ++b) {
    std::vector<Entry> entries;
    for (int i = 0; i <= b % 7; ++i) {
      ++seq;
      entries.push_back(Record(seq, "r" + std::to_string(seq)));
    }
    ASSERT_TRUE(ledger->Append(std::move(entries), seq).ok());
  }
  const SignedTreeHead sth = ledger->Head();
  ASSERT_TRUE(VerifyTreeHead(sth, ledger->public_key()).ok());
  for (uint64_t leaf = 0; leaf < sth.head.tree_size; ++leaf) {
    const std::string bytes = ledger->EntryBytes(leaf).value();
    const Proof proof = ledger->InclusionProof(leaf, sth.head.tree_size).value();
    EXPECT_TRUE(
        VerifyInclusion(leaf, sth.head.tree_size, HashLeaf(bytes), proof, sth.head.root).ok())
        << leaf;
  }
  for (uint64_t size = 1; size <= sth.head.tree_size; ++size) {
    const Proof proof = ledger->ConsistencyProof(size, sth.head.tree_size).value();
    EXPECT_TRUE(VerifyConsistency(size, sth.head.tree_size, ledger->RootAt(size).value(),
                                  sth.head.root, proof)
                    .ok());
  }
}

TEST(LedgerTest, AppendRejectsEntriesThatBreakChainRulesAndAppendsNothing) {
  TempDir dir;
  auto ledger = MustOpen(Options(dir));
  ASSERT_TRUE(ledger->Append({Record(3, "a")}, 3).ok());
  EXPECT_EQ(ledger->Append({Record(3, "b")}, 3).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger->Append({Record(4, "a")}, 4).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ledger->Append({}, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger->height(), 2u);
  ledger.reset();
  EXPECT_EQ(MustOpen(Options(dir))->height(), 2u);
}

TEST(LedgerTest, AnotherMemberNameOrAReplacedKeyIsRefused) {
  TempDir dir;
  MakeSmallLedger(dir);
  LedgerOptions other = Options(dir);
  other.member = "hospital-b";
  EXPECT_EQ(Ledger::Open(other).status().code(), StatusCode::kFailedPrecondition);
  other.member = "bad name";
  EXPECT_EQ(Ledger::Open(other).status().code(), StatusCode::kInvalidArgument);
  const std::string key_path = dir / "ledger/member.key";
  const std::string original = ReadFileBytes(key_path);
  WriteFileBytes(key_path, PrivateKey::Generate().value().Pem());
  EXPECT_EQ(Ledger::Open(Options(dir)).status().code(), StatusCode::kFailedPrecondition);
  WriteFileBytes(key_path, original);
  EXPECT_NE(MustOpen(Options(dir)), nullptr);
}

TEST(LedgerTest, ATornFinalBlockIsTruncatedAndTheLedgerContinues) {
  TempDir dir;
  MakeSmallLedger(dir);
  const std::string path = dir / "ledger/blocks.log";
  const std::string whole = ReadFileBytes(path);
  WriteFileBytes(path, whole.substr(0, whole.size() - 10));
  std::vector<std::string> notes;
  auto ledger = MustOpen(Options(dir, &notes));
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->height(), 2u);
  EXPECT_EQ(ledger->last_seq(), 2u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("block 2"), std::string::npos);
  EXPECT_TRUE(ledger->Append({Record(4, "c")}, 4).ok());
}

TEST(LedgerTest, AForgedBlockWithAFixedChecksumIsDataLossNamingTheBlock) {
  TempDir dir;
  MakeSmallLedger(dir);
  const std::string path = dir / "ledger/blocks.log";
  const std::string whole = ReadFileBytes(path);
  // Block 1 starts after block 0's record; change a byte of its payload, then fix the
  // record checksum, as an attacker who knows the format would.
  const uint64_t offset1 = MustOpen(Options(dir))->Location(1).value().offset;
  const uint32_t length = static_cast<uint32_t>(
      static_cast<uint8_t>(whole[offset1]) << 24 | static_cast<uint8_t>(whole[offset1 + 1]) << 16 |
      static_cast<uint8_t>(whole[offset1 + 2]) << 8 | static_cast<uint8_t>(whole[offset1 + 3]));
  for (size_t at : {size_t{10}, size_t{60}, size_t{200}, size_t{length - 5}}) {
    std::string changed = whole;
    changed[offset1 + kRecordHeaderSize + at] ^= 0x01;
    const Hash sum = Sha256(std::string_view(changed).substr(offset1 + kRecordHeaderSize, length));
    std::memcpy(changed.data() + offset1 + 4, sum.data(), sum.size());
    WriteFileBytes(path, changed);
    auto ledger = Ledger::Open(Options(dir));
    EXPECT_EQ(ledger.status().code(), StatusCode::kDataLoss) << at;
    EXPECT_NE(ledger.status().message().find("block 1 at byte offset " + std::to_string(offset1)),
              std::string::npos)
        << ledger.status().message();
  }
}

TEST(LedgerTest, AReadOnlyOpenCreatesNothing) {
  TempDir dir;
  LedgerOptions options = Options(dir);
  options.read_only = true;
  EXPECT_EQ(Ledger::Open(options).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir / "ledger"));
  MakeSmallLedger(dir);
  auto ledger = MustOpen(options);
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->height(), 3u);
  EXPECT_FALSE(ledger->writer_active());
  EXPECT_EQ(ledger->Append({Record(5, "d")}, 5).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace medhub::ledger
