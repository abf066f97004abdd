#include "ledger/log.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "ledger/merkle.h"

namespace medhub::ledger {
namespace {

constexpr uint64_t kMaxSize = 64;

// A log of `n` leaves "leaf-0", "leaf-1", ... and the same leaf hashes as a list.
struct Fixture {
  explicit Fixture(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::string data = "leaf-" + std::to_string(i);
      EXPECT_EQ(log.AppendLeaf(data), i);
      leaves.push_back(HashLeaf(data));
    }
  }
  MerkleLog log;
  std::vector<Hash> leaves;
};

Hash Flip(Hash h, size_t byte, int bit) {
  h[byte] ^= static_cast<uint8_t>(1u << bit);
  return h;
}

TEST(MerkleLogTest, EmptyLogHasTheEmptyRootAndNoLeaves) {
  MerkleLog log;
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.Root(), EmptyRoot());
  EXPECT_EQ(log.RootAt(0).value(), EmptyRoot());
  EXPECT_TRUE(log.Frontier().empty());
  EXPECT_EQ(log.LeafHash(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.InclusionProof(0, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(MerkleLogTest, RootsAtEverySizeMatchTheRecursiveDefinition) {
  Fixture fx(300);
  for (uint64_t n = 0; n <= 300; ++n) {
    EXPECT_EQ(fx.log.RootAt(n).value(), RootFromLeafHashes(std::span(fx.leaves).first(n))) << n;
  }
  EXPECT_EQ(fx.log.Root(), fx.log.RootAt(300).value());
  EXPECT_EQ(fx.log.RootAt(301).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.log.LeafHash(299).value(), fx.leaves[299]);
}

TEST(MerkleLogTest, FrontierFoldsToTheRootAndHasOneNodePerSetBitOfTheSize) {
  MerkleLog log;
  for (uint64_t n = 1; n <= 130; ++n) {
    log.AppendLeaf(std::to_string(n));
    const std::vector<Hash> frontier = log.Frontier();
    ASSERT_EQ(frontier.size(), static_cast<size_t>(std::popcount(n)));
    Hash acc = frontier.back();
    for (size_t i = frontier.size() - 1; i-- > 0;) acc = HashChildren(frontier[i], acc);
    EXPECT_EQ(acc, log.Root()) << n;
  }
}

TEST(MerkleLogTest, InclusionProofsForAllIndicesAndSizesUpTo64VerifyAndMatchTheReference) {
  Fixture fx(kMaxSize);
  int pairs = 0;
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    const Hash root = fx.log.RootAt(size).value();
    for (uint64_t index = 0; index < size; ++index, ++pairs) {
      Result<Proof> proof = fx.log.InclusionProof(index, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, InclusionProof(fx.leaves, index, size).value());
      const Status s = VerifyInclusion(index, size, fx.leaves[index], *proof, root);
      EXPECT_TRUE(s.ok()) << index << "/" << size << ": " << s.ToString();
    }
  }
  EXPECT_EQ(pairs, 2080);
}

TEST(MerkleLogTest, ConsistencyProofsForAllSizePairsUpTo64VerifyAndMatchTheReference) {
  Fixture fx(kMaxSize);
  int pairs = 0;
  for (uint64_t size2 = 1; size2 <= kMaxSize; ++size2) {
    const Hash root2 = fx.log.RootAt(size2).value();
    for (uint64_t size1 = 1; size1 <= size2; ++size1, ++pairs) {
      Result<Proof> proof = fx.log.ConsistencyProof(size1, size2);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, ConsistencyProof(fx.leaves, size1, size2).value());
      const Hash root1 = fx.log.RootAt(size1).value();
      const Status s = VerifyConsistency(size1, size2, root1, root2, *proof);
      EXPECT_TRUE(s.ok()) << size1 << "->" << size2 << ": " << s.ToString();
    }
  }
  EXPECT_EQ(pairs, 2080);
}

TEST(MerkleLogTest, AFlippedBitInAnyInclusionProofByteLeafOrRootIsDataLoss) {
  Fixture fx(kMaxSize);
  int flips = 0;
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    const Hash root = fx.log.RootAt(size).value();
    for (uint64_t index = 0; index < size; ++index) {
      const Hash leaf = fx.leaves[index];
      Proof proof = fx.log.InclusionProof(index, size).value();
      for (size_t byte = 0; byte < 32; ++byte) {
        const int bit = static_cast<int>((byte + index) % 8);
        EXPECT_EQ(VerifyInclusion(index, size, Flip(leaf, byte, bit), proof, root).code(),
                  StatusCode::kDataLoss);
        EXPECT_EQ(VerifyInclusion(index, size, leaf, proof, Flip(root, byte, bit)).code(),
                  StatusCode::kDataLoss);
        for (Hash& h : proof) {
          h = Flip(h, byte, bit);
          EXPECT_EQ(VerifyInclusion(index, size, leaf, proof, root).code(), StatusCode::kDataLoss);
          h = Flip(h, byte, bit);
          ++flips;
        }
      }
    }
  }
  EXPECT_EQ(flips, 11376 * 32);  // the 2080 proofs hold 11376 hashes in all
}

TEST(MerkleLogTest, AFlippedBitInAnyConsistencyProofByteOrRootIsDataLoss) {
  Fixture fx(kMaxSize);
  int flips = 0;
  for (uint64_t size2 = 1; size2 <= kMaxSize; ++size2) {
    const Hash root2 = fx.log.RootAt(size2).value();
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      const Hash root1 = fx.log.RootAt(size1).value();
      Proof proof = fx.log.ConsistencyProof(size1, size2).value();
      for (size_t byte = 0; byte < 32; ++byte) {
        const int bit = static_cast<int>((byte + size1) % 8);
        EXPECT_EQ(VerifyConsistency(size1, size2, Flip(root1, byte, bit), root2, proof).code(),
                  StatusCode::kDataLoss);
        EXPECT_EQ(VerifyConsistency(size1, size2, root1, Flip(root2, byte, bit), proof).code(),
                  StatusCode::kDataLoss);
        for (Hash& h : proof) {
          h = Flip(h, byte, bit);
          EXPECT_EQ(VerifyConsistency(size1, size2, root1, root2, proof).code(),
                    StatusCode::kDataLoss)
              << size1 << "->" << size2;
          h = Flip(h, byte, bit);
          ++flips;
        }
      }
    }
  }
  EXPECT_EQ(flips, 11055 * 32);  // the 2080 proofs hold 11055 hashes in all
}

TEST(MerkleLogTest, EveryBitOfOneProofHashMatters) {
  Fixture fx(45);
  Proof proof = fx.log.InclusionProof(17, 45).value();
  const Hash root = fx.log.Root();
  for (size_t i = 0; i < proof.size(); ++i) {
    for (int bit = 0; bit < 256; ++bit) {
      proof[i] = Flip(proof[i], bit / 8, bit % 8);
      EXPECT_EQ(VerifyInclusion(17, 45, fx.leaves[17], proof, root).code(), StatusCode::kDataLoss);
      proof[i] = Flip(proof[i], bit / 8, bit % 8);
    }
  }
  EXPECT_TRUE(VerifyInclusion(17, 45, fx.leaves[17], proof, root).ok());
}

TEST(MerkleLogTest, ProofsAtEarlierSizesStayValidWhileTheLogGrows) {
  Fixture fx(1000);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) {
    const uint64_t size2 = 1 + rng() % 1000;
    const uint64_t size1 = 1 + rng() % size2;
    const uint64_t index = rng() % size2;
    const Proof incl = fx.log.InclusionProof(index, size2).value();
    EXPECT_EQ(incl, InclusionProof(fx.leaves, index, size2).value());
    EXPECT_TRUE(
        VerifyInclusion(index, size2, fx.leaves[index], incl, fx.log.RootAt(size2).value()).ok());
    const Proof cons = fx.log.ConsistencyProof(size1, size2).value();
    EXPECT_EQ(cons, ConsistencyProof(fx.leaves, size1, size2).value());
    EXPECT_TRUE(VerifyConsistency(size1, size2, fx.log.RootAt(size1).value(),
                                  fx.log.RootAt(size2).value(), cons)
                    .ok());
  }
}

TEST(MerkleLogTest, ProofRequestsBeyondTheLogAreInvalidArgument) {
  Fixture fx(10);
  EXPECT_EQ(fx.log.InclusionProof(10, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.log.InclusionProof(3, 11).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.log.ConsistencyProof(0, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.log.ConsistencyProof(5, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fx.log.ConsistencyProof(5, 11).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fx.log.ConsistencyProof(10, 10).value().empty());
}

TEST(MerkleLogTest, ReserveDoesNotChangeTheTree) {
  MerkleLog reserved;
  reserved.Reserve(100);
  MerkleLog plain;
  for (int i = 0; i < 77; ++i) {
    reserved.AppendLeaf(std::to_string(i));
    plain.AppendLeaf(std::to_string(i));
  }
  EXPECT_EQ(reserved.Root(), plain.Root());
  EXPECT_EQ(reserved.InclusionProof(70, 77).value(), plain.InclusionProof(70, 77).value());
}

}  // namespace
}  // namespace medhub::ledger
