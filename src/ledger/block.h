// Blocks: batches of ledger entries, linked by hash and signed by their proposer.
//
// A block carries a header (height, the previous block's hash, where its entries sit in
// the log, the Merkle root of its own entries, the log's size and root after it, a
// timestamp, the proposer's change-feed position and the proposer's name), the entries'
// canonical bytes, the proposer's Ed25519 signature and the endorsements of the members
// that validated it. The block hash is SHA-256 of the canonical header bytes; the header
// commits to the entries through entries_root, so the hash covers the whole block except
// the signatures. docs/formats/ledger.md ("Blocks") gives the byte layout.
//
// Signatures are over a magic followed by the block hash: "MHBP" for the proposer,
// "MHBE" for an endorsement, so that neither can be replayed as the other nor as a tree
// head ("MHTH"). In the embedded ledger the proposer is the only member and endorses its
// own block.
//
// This file is pure encoding plus the checks a block can make on its own
// (CheckBlockContents); the rules that relate a block to the chain before it live in
// LedgerState (state.h).
//
// Errors: EncodeX returns InvalidArgument for a block that breaks a rule; DecodeBlock and
// CheckBlockContents return DataLoss. Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ed25519.h"
#include "core/status.h"
#include "ledger/entry.h"
#include "ledger/merkle.h"

namespace medhub::ledger {

inline constexpr std::string_view kBlockMagic = "MHBK";
inline constexpr uint8_t kBlockFormatVersion = 1;
inline constexpr std::string_view kProposalMagic = "MHBP";
inline constexpr std::string_view kEndorsementMagic = "MHBE";
// At most this many entries per block, and at most this many endorsements.
inline constexpr uint32_t kMaxBlockEntries = 65536;
inline constexpr size_t kMaxEndorsements = 1024;

struct BlockHeader {
  uint64_t height = 0;       // 0 for the first block
  Hash previous_hash{};      // BlockHash of block height - 1; all zeros for block 0
  uint64_t first_leaf = 0;   // the log index of the block's first entry
  uint32_t entry_count = 0;  // 1 to kMaxBlockEntries
  Hash entries_root{};       // MTH over the block's entries alone
  uint64_t log_size = 0;     // first_leaf + entry_count
  Hash log_root{};           // MTH of the whole log after this block
  int64_t timestamp_us = 0;  // microseconds since the epoch, never less than the previous block's
  uint64_t last_seq = 0;     // the proposer's change feed is on the ledger through this seq
  std::string proposer;      // a member name

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Endorsement {
  std::string member;
  Signature signature{};  // over EndorsementMessage(block hash)
  friend bool operator==(const Endorsement&, const Endorsement&) = default;
};

struct Block {
  BlockHeader header;
  std::vector<std::string> entries;  // canonical entry bytes, in log order
  Signature proposer_signature{};    // over ProposalMessage(block hash)
  std::vector<Endorsement> endorsements;

  friend bool operator==(const Block&, const Block&) = default;
};

// The canonical header bytes. InvalidArgument if the proposer is not a valid member name.
Result<std::string> EncodeBlockHeader(const BlockHeader& header);
// SHA-256 of the canonical header bytes.
Result<Hash> BlockHash(const BlockHeader& header);
// What the proposer and the endorsers sign.
std::string ProposalMessage(const Hash& block_hash);
std::string EndorsementMessage(const Hash& block_hash);

// The whole block (header, entries, signatures). InvalidArgument if it cannot be encoded
// (bad names, entry_count differing from entries.size(), too many entries or endorsements).
Result<std::string> EncodeBlock(const Block& block);
// The inverse of EncodeBlock. DataLoss unless `bytes` is exactly one encoding; it does not
// decode the entries themselves (CheckBlockContents does).
Result<Block> DecodeBlock(std::string_view bytes);

// The checks a block can make without the chain: at least one entry, entry_count and
// log_size consistent, every entry decodes (DecodeEntry), entries_root matches. DataLoss
// naming the first failure. When the pointers are given, they receive the decoded entries
// and their leaf hashes (also on failure, then incomplete).
Status CheckBlockContents(const Block& block, std::vector<Entry>* entries = nullptr,
                          std::vector<Hash>* leaf_hashes = nullptr);

// Signs a block as its proposer (whose key `key` is) and adds the proposer's own
// endorsement. The caller has set every header field (entries_root is
// RootFromLeafHashes over the entries' leaf hashes). InvalidArgument if the header cannot
// be encoded, Internal if signing fails.
Result<Block> SealBlock(BlockHeader header, std::vector<std::string> entries,
                        const PrivateKey& key);

}  // namespace medhub::ledger
