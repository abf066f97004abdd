// Ledger: the embedded (single-member) ledger, durable on disk.
//
// A ledger directory (DATA/ledger) holds blocks.log (block_file.h), member.key and
// members.json (member_files.h). Open() replays blocks.log through LedgerState, checking
// every block (hash chain, signatures, entry rules, log roots), and rebuilds the
// in-memory Merkle log and the record index; the first open creates the member key and
// block 0, whose only entry is MemberAdded for this member.
//
// Append() turns entries into the next block, signs it as proposer and endorser, writes
// it and returns once it is durable; only then do Head(), the proofs and the lookups see
// it. Nothing the ledger reports was ever lost by a crash.
//
// Ordering is local: this process is the only proposer. A consortium (ZooKeeper ordering,
// endorsements by other members, equivocation checks) would feed LedgerState blocks from
// other members through the same Check/Apply path; it is not built yet
// (docs/formats/ledger.md, "What is built, and what is not yet" and "Extension points").
//
// Thread-safety: all methods may be called concurrently. Appends are serialized among
// themselves; readers never wait for an append's fsync, only for the moment it is
// applied in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/ed25519.h"
#include "core/status.h"
#include "ledger/block.h"
#include "ledger/block_file.h"
#include "ledger/entry.h"
#include "ledger/member_files.h"
#include "ledger/merkle.h"
#include "ledger/state.h"
#include "ledger/tree_head.h"

namespace medhub::ledger {

struct LedgerOptions {
  std::string dir;               // the ledger directory, e.g. DATA/ledger
  std::string member = "local";  // this member's name (IsValidSignerName)
  // Read-only: creates nothing, never truncates, Append fails. `medhub ledger verify`
  // uses it with torn_tail = kFail; a reader beside a running server gets kIgnore.
  bool read_only = false;
  TornTail torn_tail = TornTail::kTruncate;
  // Receives notes about recovery; defaults to stderr.
  std::function<void(std::string_view)> log;
  // The member key; empty: DIR/member.key (created on first use unless `consortium`).
  std::string key_file;
  // Consortium mode (consortium.h) when not empty: the consortium's members. members.json
  // is written from this list on first use and must equal it afterwards; the key must
  // exist; block 0 is not made locally but ordered like every other block.
  std::vector<MemberInfo> consortium;
};

// Where a block sits: in the file and in the log.
struct BlockLocation {
  Hash hash{};          // the block hash
  uint64_t offset = 0;  // byte offset of its record in blocks.log
  uint64_t first_leaf = 0;
  uint32_t entry_count = 0;
};

class Ledger {
 public:
  // Opens or creates the ledger. Errors: InvalidArgument (bad member name);
  // FailedPrecondition (the directory belongs to another member, or member.key does not
  // match members.json or the ledger); NotFound (read-only and no ledger); DataLoss
  // naming the block and byte offset of the first fault; Unavailable (I/O, locked).
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options);

  // Appends a block of 1 to kMaxBlockEntries entries that records this member's change
  // feed through `last_seq`, and returns its height once it is durable. Errors:
  // InvalidArgument (an entry breaks a rule), FailedPrecondition (read-only, or the
  // entries break a chain rule: out-of-order sequence numbers, duplicates, ...),
  // Unavailable (I/O; nothing was appended).
  Result<uint64_t> Append(std::vector<Entry> entries, uint64_t last_seq);

  // Consortium (consortium.h). Propose makes the next block of `entries` on the current
  // head, signed and endorsed by this member, without appending it; ProposeGenesis makes
  // block 0 with a MemberAdded per member, this member first. CheckProposal runs every
  // chain rule but the endorsement count against the current head; Endorse signs a block
  // hash; AppendBlock appends a block ordered elsewhere once the full check (with its
  // endorsements) passes, durable before it returns. Errors: as Append; DataLoss for a
  // block that breaks a rule.
  Result<Block> Propose(std::vector<Entry> entries, uint64_t last_seq);
  Result<Block> ProposeGenesis(const std::vector<MemberInfo>& members);
  Result<CheckedBlock> CheckProposal(Block block) const;
  Result<Signature> Endorse(const Hash& block_hash) const;
  Result<uint64_t> AppendBlock(Block block);
  // AppendBlock for a block CheckProposal accepted at the current head, with endorsements
  // added since: only the chain link and the endorsements are checked again.
  Result<uint64_t> AppendChecked(CheckedBlock checked);
  size_t EndorsementsNeeded() const;
  // The member's current key on the ledger (NotFound for a non-member).
  Result<PublicKey> MemberKey(std::string_view name) const;

  const std::string& member() const { return member_; }
  const PublicKey& public_key() const { return key_.public_key(); }
  // The signed tree head after the latest block.
  SignedTreeHead Head() const;
  uint64_t height() const;     // the number of blocks
  uint64_t tree_size() const;  // the number of entries
  // This member's change feed is on the ledger through this sequence number.
  uint64_t last_seq() const;
  // Read-only opens: a server held the ledger open when it was opened.
  bool writer_active() const { return file_->writer_active(); }

  // Proofs against the tree of `tree_size` leaves (proof rules in merkle.h);
  // InvalidArgument for sizes or indices outside the log.
  Result<Proof> InclusionProof(uint64_t leaf_index, uint64_t tree_size) const;
  Result<Proof> ConsistencyProof(uint64_t size1, uint64_t size2) const;
  Result<Hash> RootAt(uint64_t tree_size) const;
  Result<Hash> LeafHash(uint64_t leaf_index) const;

  // The block at `height`, read back from blocks.log. NotFound past the end, DataLoss when
  // the file no longer holds what was validated.
  Result<Block> ReadBlock(uint64_t height) const;
  Result<BlockLocation> Location(uint64_t height) const;
  // The canonical bytes of the entry at `leaf_index`, checked against its leaf hash.
  // NotFound past the end, DataLoss when the file no longer holds what was validated.
  Result<std::string> EntryBytes(uint64_t leaf_index) const;
  // The leaf index of this member's record version; NotFound when it is not on the ledger.
  Result<uint64_t> LookupLeaf(std::string_view type, std::string_view id, uint64_t version) const;

 private:
  Ledger(std::string member, PrivateKey key) : member_(std::move(member)), key_(std::move(key)) {}
  Status Load(const LedgerOptions& options);
  Status CheckAnchors(const LedgerOptions& options) const;
  Status AppendGenesis();
  Result<Block> MakeBlock(std::vector<std::string> entries, const std::vector<Hash>& leaves,
                          uint64_t last_seq) const;
  Result<SignedTreeHead> SignHead() const;
  // Writes a checked block and applies it; the caller holds append_mu_.
  Result<uint64_t> Commit(CheckedBlock checked);
  Result<CheckedBlock> Prepare(std::vector<Entry> entries, uint64_t last_seq);

  const std::string member_;
  const PrivateKey key_;
  std::unique_ptr<BlockFile> file_;
  bool consortium_ = false;  // blocks are ordered and endorsed by the consortium

  std::mutex append_mu_;               // serializes Append (the only writer of state_)
  mutable std::shared_mutex mu_;       // state_, blocks_, head_: shared to read, exclusive to apply
  LedgerState state_;                  // GUARDED_BY(mu_) for Apply; the appender may read it
  std::vector<BlockLocation> blocks_;  // GUARDED_BY(mu_)
  SignedTreeHead head_;                // GUARDED_BY(mu_)
};

}  // namespace medhub::ledger
