#include "ledger/log.h"

#include <bit>
#include <cassert>
#include <string>

namespace medhub::ledger {

uint64_t MerkleLog::AppendLeaf(std::string_view leaf_data) {
  return AppendLeafHash(HashLeaf(leaf_data));
}

uint64_t MerkleLog::AppendLeafHash(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  const uint64_t index = levels_[0].size() - 1;
  // Each trailing 1 bit of the new index completes one more perfect subtree.
  uint64_t node = index;
  for (size_t level = 0; (node & 1) == 1; ++level, node >>= 1) {
    if (levels_.size() == level + 1) levels_.emplace_back();
    const std::vector<Hash>& below = levels_[level];
    levels_[level + 1].push_back(HashChildren(below[node - 1], below[node]));
  }
  return index;
}

void MerkleLog::Reserve(uint64_t leaves) {
  for (size_t level = 0; (leaves >> level) > 0; ++level) {
    if (levels_.size() == level) levels_.emplace_back();
    levels_[level].reserve(leaves >> level);
  }
}

Hash MerkleLog::Root() const { return size() == 0 ? EmptyRoot() : SubtreeHash(0, size()); }

Result<Hash> MerkleLog::RootAt(uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  return tree_size == 0 ? EmptyRoot() : SubtreeHash(0, tree_size);
}

Result<Hash> MerkleLog::LeafHash(uint64_t index) const {
  if (index >= size()) {
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is beyond log size " +
                                   std::to_string(size()));
  }
  return levels_[0][index];
}

std::vector<Hash> MerkleLog::Frontier() const {
  std::vector<Hash> frontier;
  const uint64_t n = size();
  for (int level = std::bit_width(n) - 1; level >= 0; --level) {
    if (((n >> level) & 1) != 0) frontier.push_back(levels_[level][(n >> level) - 1]);
  }
  return frontier;
}

Result<Proof> MerkleLog::InclusionProof(uint64_t index, uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  return BuildInclusionProof(index, tree_size,
                             [this](uint64_t b, uint64_t e) { return SubtreeHash(b, e); });
}

Result<Proof> MerkleLog::ConsistencyProof(uint64_t size1, uint64_t size2) const {
  RETURN_IF_ERROR(CheckTreeSize(size2));
  return BuildConsistencyProof(size1, size2,
                               [this](uint64_t b, uint64_t e) { return SubtreeHash(b, e); });
}

Hash MerkleLog::SubtreeHash(uint64_t begin, uint64_t end) const {
  assert(begin < end && end <= size());
  // [begin, end) splits into perfect subtrees, one per set bit of end - begin, largest
  // first; MTH folds them from the right. Start with the smallest, which ends at `end`.
  uint64_t remaining = end - begin;
  int level = std::countr_zero(remaining);
  uint64_t pos = end - (uint64_t{1} << level);  // start of the current perfect subtree
  assert(pos % (uint64_t{1} << level) == 0);
  Hash acc = levels_[level][pos >> level];
  remaining -= uint64_t{1} << level;
  while (remaining != 0) {
    level = std::countr_zero(remaining);
    pos -= uint64_t{1} << level;
    assert(pos % (uint64_t{1} << level) == 0);
    acc = HashChildren(levels_[level][pos >> level], acc);
    remaining -= uint64_t{1} << level;
  }
  return acc;
}

Status MerkleLog::CheckTreeSize(uint64_t tree_size) const {
  if (tree_size > size()) {
    return Status::InvalidArgument("tree size " + std::to_string(tree_size) +
                                   " is beyond log size " + std::to_string(size()));
  }
  return Status::Ok();
}

}  // namespace medhub::ledger
