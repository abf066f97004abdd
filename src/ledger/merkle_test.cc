#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

using testing::FromHex;
using testing::LoadJson;
using testing::MustHashFromHex;

std::vector<Hash> HashesFromHexArray(const json::Value& array) {
  std::vector<Hash> out;
  for (const json::Value& item : array.items()) out.push_back(MustHashFromHex(item.text()));
  return out;
}

TEST(HasherTest, MatchesTheRfc6962HasherVectors) {
  const json::Value tree = LoadJson(testing::Rfc6962Dir() / "reference-tree.json");
  const json::Value* vectors = tree.find("hasherVectors");
  ASSERT_NE(vectors, nullptr);
  ASSERT_EQ(vectors->items().size(), 4u);
  for (const json::Value& v : vectors->items()) {
    const std::string op(v.get_string("op"));
    const Hash want = MustHashFromHex(v.get_string("want"));
    if (op == "emptyRoot") {
      EXPECT_EQ(EmptyRoot(), want);
      EXPECT_EQ(RootFromLeafHashes({}), want);
    } else if (op == "hashLeaf") {
      EXPECT_EQ(HashLeaf(FromHex(v.get_string("leafHex")).value()), want) << v.get_string("desc");
    } else if (op == "hashChildren") {
      EXPECT_EQ(HashChildren(std::string_view(FromHex(v.get_string("leftHex")).value()),
                             std::string_view(FromHex(v.get_string("rightHex")).value())),
                want);
    } else {
      ADD_FAILURE() << "unknown hasher op " << op;
    }
  }
}

TEST(HasherTest, HashesLeavesNodesAndRootsOfTheReferenceTreeExactly) {
  const json::Value tree = LoadJson(testing::Rfc6962Dir() / "reference-tree.json");
  const json::Value& inputs = *tree.find("leafInputsHex");
  const std::vector<Hash> leaf_hashes = HashesFromHexArray(*tree.find("leafHashesHex"));
  const json::Value& levels = *tree.find("nodeHashesByLevelHex");
  const std::vector<Hash> roots = HashesFromHexArray(*tree.find("rootHashesBySizeHex"));
  ASSERT_EQ(inputs.items().size(), 8u);
  ASSERT_EQ(leaf_hashes.size(), 8u);
  ASSERT_EQ(levels.items().size(), 4u);
  ASSERT_EQ(roots.size(), 9u);

  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(HashLeaf(FromHex(inputs.items()[i].text()).value()), leaf_hashes[i]) << i;
  }
  // Level 0 is the leaves; each node of level k + 1 hashes two nodes of level k.
  size_t nodes_checked = 0;
  std::vector<Hash> below = HashesFromHexArray(levels.items()[0]);
  EXPECT_EQ(below, leaf_hashes);
  for (size_t level = 1; level < 4; ++level) {
    const std::vector<Hash> here = HashesFromHexArray(levels.items()[level]);
    ASSERT_EQ(here.size(), below.size() / 2);
    for (size_t i = 0; i < here.size(); ++i, ++nodes_checked) {
      EXPECT_EQ(HashChildren(below[2 * i], below[2 * i + 1]), here[i]) << level << "/" << i;
    }
    below = here;
  }
  EXPECT_EQ(nodes_checked, 7u);
  for (size_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(RootFromLeafHashes(std::span(leaf_hashes).first(n)), roots[n]) << n;
  }
}

TEST(HasherTest, SplitPointIsTheLargestPowerOfTwoBelowN) {
  EXPECT_EQ(SplitPoint(2), 1u);
  EXPECT_EQ(SplitPoint(3), 2u);
  EXPECT_EQ(SplitPoint(4), 2u);
  EXPECT_EQ(SplitPoint(5), 4u);
  EXPECT_EQ(SplitPoint(uint64_t{1} << 40), uint64_t{1} << 39);
  EXPECT_EQ(SplitPoint(~uint64_t{0}), uint64_t{1} << 63);
}

TEST(HasherTest, HashFromBytesAndHexRejectWrongLengthsAndDigits) {
  EXPECT_EQ(HashFromBytes(std::string(31, 'x')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromBytes(std::string(33, 'x')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HashFromBytes(std::string(32, 'x')).ok());
  EXPECT_EQ(HashFromHex(std::string(63, 'a')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(63, 'a') + "g").status().code(), StatusCode::kInvalidArgument);
  const Hash h = HashLeaf("x");
  EXPECT_EQ(HashFromHex(ToHex(h)).value(), h);
}

TEST(ProofTest, ReferenceTreeInclusionProofsMatchTheRfcExample) {
  // RFC 6962 section 2.1.3: the proof for leaf d (index 3) of the 7-leaf tree is [c, g, l].
  const json::Value tree = LoadJson(testing::Rfc6962Dir() / "reference-tree.json");
  const std::vector<Hash> leaves = HashesFromHexArray(*tree.find("leafHashesHex"));
  Result<Proof> proof = InclusionProof(leaves, 3, 7);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  const std::span<const Hash> all(leaves);
  EXPECT_EQ(*proof, (Proof{leaves[2], RootFromLeafHashes(all.first(2)),
                           RootFromLeafHashes(all.subspan(4, 3))}));
  EXPECT_TRUE(VerifyInclusion(3, 7, leaves[3], *proof, RootFromLeafHashes(all.first(7))).ok());
}

TEST(ProofTest, ReferenceTreeConsistencyProofsMatchTheRfcExamples) {
  // RFC 6962 section 2.1.3: PROOF(3, D[7]) = [c, d, g, l]; PROOF(4, D[7]) = [l];
  // PROOF(6, D[7]) = [i, j, k].
  const json::Value tree = LoadJson(testing::Rfc6962Dir() / "reference-tree.json");
  const std::vector<Hash> d = HashesFromHexArray(*tree.find("leafHashesHex"));
  const std::span<const Hash> all(d);
  auto mth = [&](size_t begin, size_t end) {
    return RootFromLeafHashes(all.subspan(begin, end - begin));
  };
  EXPECT_EQ(ConsistencyProof(d, 3, 7).value(), (Proof{d[2], d[3], mth(0, 2), mth(4, 7)}));
  EXPECT_EQ(ConsistencyProof(d, 4, 7).value(), (Proof{mth(4, 7)}));
  EXPECT_EQ(ConsistencyProof(d, 6, 7).value(), (Proof{mth(4, 6), d[6], mth(0, 4)}));
  EXPECT_TRUE(ConsistencyProof(d, 7, 7).value().empty());
}

TEST(ProofTest, GenerationRejectsBadIndicesAndSizes) {
  const std::vector<Hash> leaves(5, HashLeaf("a"));
  EXPECT_EQ(InclusionProof(leaves, 5, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 0, 6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 0, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 4, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 4, 6).status().code(), StatusCode::kInvalidArgument);
}

TEST(VerifyTest, MalformedInputIsInvalidArgumentAndAWrongRootIsDataLoss) {
  const std::vector<Hash> leaves = {HashLeaf("a"), HashLeaf("b"), HashLeaf("c")};
  const Hash root = RootFromLeafHashes(leaves);
  const Proof proof = InclusionProof(leaves, 1, 3).value();
  EXPECT_TRUE(VerifyInclusion(1, 3, leaves[1], proof, root).ok());
  EXPECT_EQ(VerifyInclusion(3, 3, leaves[1], proof, root).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(0, 0, leaves[1], {}, EmptyRoot()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(1, 3, leaves[1], std::span(proof).first(1), root).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(1, 3, leaves[0], proof, root).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyInclusion(1, 3, leaves[1], proof, leaves[0]).code(), StatusCode::kDataLoss);

  const Hash root2 = RootFromLeafHashes(std::span(leaves).first(2));
  const Proof cproof = ConsistencyProof(leaves, 2, 3).value();
  EXPECT_TRUE(VerifyConsistency(2, 3, root2, root, cproof).ok());
  EXPECT_EQ(VerifyConsistency(3, 2, root, root2, cproof).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(0, 3, EmptyRoot(), root, cproof).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(2, 3, root2, root, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(3, 3, root, root, cproof).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifyConsistency(3, 3, root, root, {}).ok());
  EXPECT_EQ(VerifyConsistency(3, 3, root, root2, {}).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyConsistency(2, 3, root, root, cproof).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyConsistency(2, 3, root2, root2, cproof).code(), StatusCode::kDataLoss);
}

TEST(VerifyTest, HugeTreeSizesDoNotOverflowTheProofShape) {
  // index 0 in a tree of 2^64 - 1 leaves: 64 inner levels, no border; must not shift by 64.
  const Proof proof(64, HashLeaf("x"));
  const Status s = VerifyInclusion(0, ~uint64_t{0}, HashLeaf("y"), proof, HashLeaf("z"));
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(VerifyInclusion(0, ~uint64_t{0}, HashLeaf("y"), {}, HashLeaf("z")).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medhub::ledger
