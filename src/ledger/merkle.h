// RFC 6962 / RFC 9162 Merkle tree hashing and proofs.
//
// Hashing (RFC 6962 section 2.1): a leaf hash is SHA-256(0x00 || leaf), an interior node
// is SHA-256(0x01 || left || right), and the empty tree's root is SHA-256(""). Proofs are
// lists of node hashes ordered from the leaf (or the smaller tree) towards the root, as in
// RFC 9162 sections 2.1.3 and 2.1.4; docs/formats/ledger.md describes them.
//
// Verification is pure: no I/O, no allocation beyond the returned Status. Every verifier
// returns
//   - OK when the proof verifies,
//   - InvalidArgument when the input is malformed (index >= size, size1 > size2,
//     size1 == 0, a proof of the wrong length),
//   - DataLoss when the input is well formed but the proof does not lead to the root.
//
// Proof generation is written once against a SubtreeHashFn, so the same code serves a
// plain list of leaf hashes (the reference, O(n) per proof) and MerkleLog (log.h), which
// answers subtree hashes from stored node levels in O(log n).
//
// Thread-safety: every function here is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace medhub::ledger {

// A node, leaf or root hash.
using Hash = Sha256Digest;
// An inclusion or consistency proof: node hashes from the bottom of the tree upwards.
using Proof = std::vector<Hash>;

// Domain-separation prefixes of RFC 6962 section 2.1.
inline constexpr uint8_t kLeafHashPrefix = 0x00;
inline constexpr uint8_t kNodeHashPrefix = 0x01;

// SHA-256(0x00 || leaf).
Hash HashLeaf(std::string_view leaf);
// SHA-256(0x01 || left || right).
Hash HashChildren(const Hash& left, const Hash& right);
// The same over byte strings of any length (RFC 6962 does not fix the node size).
Hash HashChildren(std::string_view left, std::string_view right);
// SHA-256(""), the root of the tree with no leaves.
Hash EmptyRoot();

// `bytes` as a Hash; InvalidArgument unless it is exactly 32 bytes long.
Result<Hash> HashFromBytes(std::string_view bytes);
// Parses 64 hex digits (either case); InvalidArgument otherwise.
Result<Hash> HashFromHex(std::string_view hex);

// The largest power of two strictly smaller than n (the RFC's split point k). Requires n >= 2.
uint64_t SplitPoint(uint64_t n);

// MTH(D[0:n]) over the given leaf hashes; EmptyRoot() for an empty span. O(n) hashes.
Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes);

// Returns MTH(D[begin:end]) of some tree. Proof builders call it only with 0 <= begin <
// end <= the tree size they were given, and only for ranges of the RFC 6962 recursion, in
// which begin is a multiple of the smallest power of two >= end - begin.
using SubtreeHashFn = std::function<Hash(uint64_t begin, uint64_t end)>;

// PATH(index, D[0:size]) of RFC 6962 section 2.1.1. InvalidArgument if index >= size.
// Calls subtree_hash once per proof element.
Result<Proof> BuildInclusionProof(uint64_t index, uint64_t size, const SubtreeHashFn& subtree_hash);
// PROOF(size1, D[0:size2]) of RFC 6962 section 2.1.2; empty when size1 == size2.
// InvalidArgument unless 0 < size1 <= size2.
Result<Proof> BuildConsistencyProof(uint64_t size1, uint64_t size2,
                                    const SubtreeHashFn& subtree_hash);

// The same proofs over a list of leaf hashes: the tree is leaf_hashes[0:size]. They also
// return InvalidArgument when size > leaf_hashes.size(). O(size) hashes per proof.
Result<Proof> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index, uint64_t size);
Result<Proof> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t size1, uint64_t size2);

// The root that `proof` leads to for the leaf at `leaf_index` in a tree of `tree_size`
// leaves (RFC 9162 section 2.1.3.2). InvalidArgument for index >= size or a proof of the
// wrong length.
Result<Hash> RootFromInclusionProof(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                                    std::span<const Hash> proof);

// OK iff `proof` shows that the leaf with `leaf_hash` sits at `leaf_index` in the tree of
// `tree_size` leaves whose root is `root`. Errors as described at the top of this file.
Status VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);

// OK iff `proof` shows that the tree of size2 leaves with root2 extends the tree of size1
// leaves with root1 (RFC 9162 section 2.1.4.2). Requires 0 < size1 <= size2; when the sizes
// are equal the proof must be empty and the roots equal. Errors as at the top of this file.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         std::span<const Hash> proof);

}  // namespace medhub::ledger
