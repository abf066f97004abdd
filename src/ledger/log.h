// MerkleLog: an append-only RFC 6962 Merkle log held in memory.
//
// The log stores every complete node of the tree, level by level: level 0 holds the leaf
// hashes, level k holds the roots of the perfect subtrees of 2^k leaves that are complete
// so far (node i of level k covers leaves [i * 2^k, (i + 1) * 2^k)). A complete node never
// changes, so the nodes of every earlier tree size are still there, and the right-hand
// nodes of each level together form the log's compact range (its frontier).
//
// Costs, for a log of n leaves (H = one SHA-256 of at most 65 bytes):
//   - Append: amortized 1 H, worst case log2(n) H (one per level that completes).
//   - Root / RootAt(size): popcount(size) - 1 H, at most log2(n) H.
//   - InclusionProof(index, size): at most log2(size) stored-node lookups plus at most
//     log2(size) H to build the one proof element that covers an incomplete subtree.
//   - ConsistencyProof(size1, size2): the same bound per element, about 2 log2(size2) H.
//   - Memory: 2n - popcount(n) hashes of 32 bytes, i.e. about 64 bytes per leaf
//     (640 MB at 10 million leaves).
//
// The log itself is not persisted: Ledger (ledger.h) rebuilds it from blocks.log on open.
//
// Thread-safety: none inside. Const methods may run concurrently with one another; Append
// and Reserve need exclusive access (the caller holds the lock).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ledger/merkle.h"

namespace medhub::ledger {

class MerkleLog {
 public:
  MerkleLog() = default;

  // Number of leaves.
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // Appends HashLeaf(leaf_data) and returns the new leaf's index.
  uint64_t AppendLeaf(std::string_view leaf_data);
  // Appends an already computed leaf hash and returns the new leaf's index.
  uint64_t AppendLeafHash(const Hash& leaf_hash);
  // Preallocates room for `leaves` leaves in total (an optimization only).
  void Reserve(uint64_t leaves);

  // The root at the current size (EmptyRoot() for an empty log).
  Hash Root() const;
  // The root the log had when it held `tree_size` leaves; InvalidArgument if
  // tree_size > size().
  Result<Hash> RootAt(uint64_t tree_size) const;
  // The hash of leaf `index`; InvalidArgument if index >= size().
  Result<Hash> LeafHash(uint64_t index) const;

  // The compact range [0, size()): the roots of the perfect subtrees that make up the log,
  // largest (leftmost) first. Root() is these folded from the right with HashChildren.
  std::vector<Hash> Frontier() const;

  // Inclusion proof of leaf `index` in the tree of `tree_size` leaves.
  // InvalidArgument unless index < tree_size <= size().
  Result<Proof> InclusionProof(uint64_t index, uint64_t tree_size) const;
  // Consistency proof from the tree of size1 leaves to the tree of size2 leaves (empty when
  // they are equal). InvalidArgument unless 0 < size1 <= size2 <= size().
  Result<Proof> ConsistencyProof(uint64_t size1, uint64_t size2) const;

 private:
  // MTH(D[begin:end]) for 0 <= begin < end <= size() where begin is a multiple of the
  // smallest power of two >= end - begin: the ranges RFC 6962 proofs are made of.
  Hash SubtreeHash(uint64_t begin, uint64_t end) const;
  Status CheckTreeSize(uint64_t tree_size) const;

  // levels_[k][i] is the root of the perfect subtree over leaves [i * 2^k, (i + 1) * 2^k);
  // levels_[k].size() == size() >> k.
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace medhub::ledger
