#include "ledger/merkle.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/hash.h"

namespace medhub::ledger {
namespace {

std::string_view View(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

// MTH(D[0:n]) of the given leaf hashes, n >= 1.
Hash MthOfNonEmpty(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const uint64_t k = SplitPoint(leaves.size());
  return HashChildren(MthOfNonEmpty(leaves.first(k)), MthOfNonEmpty(leaves.subspan(k)));
}

// Lengths of the two parts of an inclusion proof for `index` in a tree of `size` leaves:
// `inner` levels below the point where the paths to `index` and `size - 1` diverge, and
// `border` left siblings above it (RFC 9162 section 2.1.3.2, as in transparency-dev).
struct ProofShape {
  int inner;
  int border;
};
ProofShape DecomposeInclusionProof(uint64_t index, uint64_t size) {
  const int inner = std::bit_width(index ^ (size - 1));
  const int border = inner >= 64 ? 0 : std::popcount(index >> inner);
  return {inner, border};
}

bool BitSet(uint64_t value, size_t bit) { return bit < 64 && ((value >> bit) & 1) != 0; }

// Chains `proof` onto `seed`, a node at position `index` on its level, below the border.
Hash ChainInner(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    seed = BitSet(index, i) ? HashChildren(proof[i], seed) : HashChildren(seed, proof[i]);
  }
  return seed;
}

// Like ChainInner but uses only left siblings: yields the node's earlier, smaller version.
Hash ChainInnerRight(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (BitSet(index, i)) seed = HashChildren(proof[i], seed);
  }
  return seed;
}

// Chains left siblings along the right border of the tree.
Hash ChainBorderRight(Hash seed, std::span<const Hash> proof) {
  for (const Hash& h : proof) seed = HashChildren(h, seed);
  return seed;
}

Status CheckListSize(std::span<const Hash> leaf_hashes, uint64_t size) {
  if (size > leaf_hashes.size()) {
    return Status::InvalidArgument("tree size " + std::to_string(size) + " exceeds the " +
                                   std::to_string(leaf_hashes.size()) + " leaves given");
  }
  return Status::Ok();
}

SubtreeHashFn ListSubtreeHash(std::span<const Hash> leaf_hashes) {
  return [leaf_hashes](uint64_t begin, uint64_t end) {
    return MthOfNonEmpty(leaf_hashes.subspan(begin, end - begin));
  };
}

}  // namespace

Hash HashLeaf(std::string_view leaf) {
  const char prefix = static_cast<char>(kLeafHashPrefix);
  return Sha256Of({std::string_view(&prefix, 1), leaf});
}

Hash HashChildren(const Hash& left, const Hash& right) {
  const char prefix = static_cast<char>(kNodeHashPrefix);
  return Sha256Of({std::string_view(&prefix, 1), View(left), View(right)});
}

Hash HashChildren(std::string_view left, std::string_view right) {
  const char prefix = static_cast<char>(kNodeHashPrefix);
  return Sha256Of({std::string_view(&prefix, 1), left, right});
}

Hash EmptyRoot() {
  static const Hash kEmpty = Sha256("");
  return kEmpty;
}

Result<Hash> HashFromBytes(std::string_view bytes) {
  Hash h{};
  if (bytes.size() != h.size()) {
    return Status::InvalidArgument("a hash is 32 bytes, got " + std::to_string(bytes.size()));
  }
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

Result<Hash> HashFromHex(std::string_view hex) {
  Hash h{};
  if (hex.size() != 2 * h.size()) return Status::InvalidArgument("a hex hash is 64 digits");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < h.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("not a hex digit in hash");
    h[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (std::bit_width(n - 1) - 1); }

Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes) {
  return leaf_hashes.empty() ? EmptyRoot() : MthOfNonEmpty(leaf_hashes);
}

Result<Proof> BuildInclusionProof(uint64_t index, uint64_t size,
                                  const SubtreeHashFn& subtree_hash) {
  if (index >= size) {
    return Status::InvalidArgument("leaf index " + std::to_string(index) +
                                   " is not below tree size " + std::to_string(size));
  }
  // Walk down from the root, taking the sibling of each subtree on the way to the leaf.
  Proof proof;
  proof.reserve(std::bit_width(size));
  uint64_t begin = 0;
  uint64_t end = size;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    if (index < begin + k) {
      proof.push_back(subtree_hash(begin + k, end));
      end = begin + k;
    } else {
      proof.push_back(subtree_hash(begin, begin + k));
      begin += k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Result<Proof> BuildConsistencyProof(uint64_t size1, uint64_t size2,
                                    const SubtreeHashFn& subtree_hash) {
  if (size1 == 0 || size1 > size2) {
    return Status::InvalidArgument("consistency proof needs 0 < size1 <= size2, got " +
                                   std::to_string(size1) + " and " + std::to_string(size2));
  }
  // SUBPROOF(m, D[begin:end], complete), unrolled from the root downwards.
  Proof proof;
  proof.reserve(std::bit_width(size2) + 1);
  uint64_t begin = 0;
  uint64_t end = size2;
  uint64_t m = size1;  // the old tree's leaves within [begin, end)
  bool complete = true;
  while (end - begin != m) {
    const uint64_t k = SplitPoint(end - begin);
    if (m <= k) {
      proof.push_back(subtree_hash(begin + k, end));
      end = begin + k;
    } else {
      proof.push_back(subtree_hash(begin, begin + k));
      m -= k;
      begin += k;
      complete = false;
    }
  }
  if (!complete) proof.push_back(subtree_hash(begin, end));
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Result<Proof> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index, uint64_t size) {
  RETURN_IF_ERROR(CheckListSize(leaf_hashes, size));
  return BuildInclusionProof(index, size, ListSubtreeHash(leaf_hashes));
}

Result<Proof> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t size1, uint64_t size2) {
  RETURN_IF_ERROR(CheckListSize(leaf_hashes, size2));
  return BuildConsistencyProof(size1, size2, ListSubtreeHash(leaf_hashes));
}

Result<Hash> RootFromInclusionProof(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                                    std::span<const Hash> proof) {
  if (leaf_index >= tree_size) {
    return Status::InvalidArgument("leaf index " + std::to_string(leaf_index) +
                                   " is not below tree size " + std::to_string(tree_size));
  }
  const ProofShape shape = DecomposeInclusionProof(leaf_index, tree_size);
  const size_t want = static_cast<size_t>(shape.inner + shape.border);
  if (proof.size() != want) {
    return Status::InvalidArgument("inclusion proof has " + std::to_string(proof.size()) +
                                   " hashes, want " + std::to_string(want));
  }
  const Hash inner = ChainInner(leaf_hash, proof.first(shape.inner), leaf_index);
  return ChainBorderRight(inner, proof.subspan(shape.inner));
}

Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  ASSIGN_OR_RETURN(const Hash calculated,
                   RootFromInclusionProof(leaf_index, tree_size, leaf_hash, proof));
  if (calculated != root) {
    return Status::DataLoss("inclusion proof leads to root " + ToHex(calculated) + ", not " +
                            ToHex(root));
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         std::span<const Hash> proof) {
  if (size2 < size1) return Status::InvalidArgument("size2 is smaller than size1");
  if (size1 == 0) return Status::InvalidArgument("consistency with the empty tree is vacuous");
  if (size1 == size2) {
    if (!proof.empty()) return Status::InvalidArgument("size1 == size2 needs an empty proof");
    if (root1 != root2) return Status::DataLoss("equal sizes but different roots");
    return Status::Ok();
  }
  if (proof.empty()) return Status::InvalidArgument("empty consistency proof");

  // The proof is a suffix of the inclusion proof of leaf size1 - 1 in the tree of size2,
  // starting at level `shift`, where the largest perfect subtree ending at size1 has its
  // root; that root is proof[0] unless size1 is a power of two (then it is root1).
  ProofShape shape = DecomposeInclusionProof(size1 - 1, size2);
  const int shift = std::countr_zero(size1);
  shape.inner -= shift;  // shift < inner because size1 < size2
  const bool seed_is_root1 = size1 == uint64_t{1} << shift;
  const size_t start = seed_is_root1 ? 0 : 1;
  const size_t want = start + static_cast<size_t>(shape.inner + shape.border);
  if (proof.size() != want) {
    return Status::InvalidArgument("consistency proof has " + std::to_string(proof.size()) +
                                   " hashes, want " + std::to_string(want));
  }
  const Hash& seed = seed_is_root1 ? root1 : proof[0];
  const std::span<const Hash> rest = proof.subspan(start);
  const std::span<const Hash> inner = rest.first(shape.inner);
  const std::span<const Hash> border = rest.subspan(shape.inner);
  const uint64_t mask = (size1 - 1) >> shift;

  const Hash hash1 = ChainBorderRight(ChainInnerRight(seed, inner, mask), border);
  if (hash1 != root1) return Status::DataLoss("consistency proof does not lead to root1");
  const Hash hash2 = ChainBorderRight(ChainInner(seed, inner, mask), border);
  if (hash2 != root2) return Status::DataLoss("consistency proof does not lead to root2");
  return Status::Ok();
}

}  // namespace medhub::ledger
