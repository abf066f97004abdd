// LedgerState: the ledger as a state machine over blocks.
//
// It holds what the blocks so far establish: the RFC 6962 log of all entries, the members
// and their current keys, each member's change-feed position (the last_seq of its latest
// block), and an index from record versions to leaf indices. Check() decides whether a
// block may come next and Apply() appends it; every member (and `medhub ledger verify`)
// runs the same rules, listed in docs/formats/ledger.md ("Chain rules"):
//   - height, previous hash, first leaf and timestamp continue the chain;
//   - block 0 starts with MemberAdded for its proposer, whose key signs it (genesis);
//   - the proposer is a member and signed the block; endorsements come from distinct
//     members, every one verifies, and more than half of the members endorsed;
//   - MemberAdded names a new member, KeyRotated an existing one (the new key signs from
//     the next block on);
//   - record entries belong to the proposer's institution, their sequence numbers rise
//     strictly, lie after the proposer's previous last_seq and at most at the block's
//     last_seq, and no record version appears twice on the ledger;
//   - the log size and root in the header are those of the log with the entries appended.
//
// Thread-safety: none inside. Const methods may run concurrently with each other; Apply
// needs exclusive access. Check is const, so a single appender may check its next block
// while readers use the state, and take the exclusive lock only for Apply.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ed25519.h"
#include "core/status.h"
#include "ledger/block.h"
#include "ledger/entry.h"
#include "ledger/log.h"
#include "ledger/record_index.h"

namespace medhub::ledger {

// A block that passed LedgerState::Check, with what Apply needs.
struct CheckedBlock {
  Block block;
  Hash hash{};                         // the block hash
  std::vector<Entry> entries;          // block.entries decoded
  std::vector<Hash> leaf_hashes;       // HashLeaf of each of block.entries
  std::vector<RecordKey> record_keys;  // of the record entries, in order (set by the check)
};

// The root of `log` with `leaf_hashes` appended, computed from the log's frontier without
// changing it: about one hash per new leaf.
Hash RootAfterAppend(const MerkleLog& log, std::span<const Hash> leaf_hashes);

class LedgerState {
 public:
  LedgerState() = default;
  LedgerState(const LedgerState&) = delete;
  LedgerState& operator=(const LedgerState&) = delete;

  // Checks that `block` may be the next block. DataLoss naming the rule it breaks.
  Result<CheckedBlock> Check(Block block) const;
  // Check without the endorsement count of rule 5 (each endorsement present must still
  // verify): what a consortium member runs on a proposal before it endorses it.
  Result<CheckedBlock> CheckProposal(Block block) const;
  // CheckPrepared without the endorsement count: for a block the proposer orders elsewhere.
  Status CheckPreparedProposal(CheckedBlock* checked) const {
    return CheckPreparedBlock(checked, /*require_quorum=*/false);
  }
  // How many endorsements the next block needs: more than half of the members, 1 for
  // block 0 (whose only member before it is its proposer).
  size_t EndorsementsNeeded() const;
  // Rule 5 in full (every endorsement verifies, more than half of the members) for a block
  // that CheckProposal accepted against this same state. DataLoss otherwise.
  Status CheckEndorsements(const CheckedBlock& checked) const;
  size_t member_count() const { return members_.size(); }
  // The same for the proposer's own block, built from entries it encoded and hashed
  // itself: `checked` holds the block, its decoded entries and their leaf hashes, which the
  // caller guarantees match block.entries, and header roots the caller computed from
  // them (RootFromLeafHashes, RootAfterAppend). Every other rule is checked; fills the
  // block hash and record keys.
  Status CheckPrepared(CheckedBlock* checked) const;
  // Appends a block that Check accepted against the current state.
  void Apply(CheckedBlock checked);

  uint64_t height() const { return height_; }  // the number of blocks
  const Hash& last_hash() const { return last_hash_; }
  int64_t last_timestamp() const { return last_timestamp_; }
  const MerkleLog& log() const { return log_; }
  // The member's change-feed position: last_seq of its latest block, 0 before any.
  uint64_t LastSeq(std::string_view member) const;
  // The member's current key, or nullptr for an unknown name.
  const PublicKey* MemberKey(std::string_view name) const;
  // The key the member joined with (its MemberAdded entry), or nullptr.
  const PublicKey* FirstKey(std::string_view name) const;
  // The leaf index of a record version of `institution`, or nullopt.
  std::optional<uint64_t> LookupRecord(std::string_view institution, std::string_view type,
                                       std::string_view id, uint64_t version) const;
  // Reserves room for `leaves` leaves (an optimization only).
  void Reserve(uint64_t leaves);

 private:
  struct Member {
    PublicKey first_key;
    PublicKey key;
    uint64_t last_seq = 0;
  };
  using Members = std::map<std::string, Member, std::less<>>;

  // A record version's key: the first 16 bytes of SHA-256 over
  // "institution\0type\0id\0" followed by the version as a big-endian u64.
  static RecordKey KeyOf(std::string_view institution, std::string_view type, std::string_view id,
                         uint64_t version);
  Status CheckChain(const BlockHeader& header) const;
  Status CheckSignatures(const CheckedBlock& checked, const Members& members,
                         bool require_quorum) const;
  Result<CheckedBlock> CheckBlock(Block block, bool require_quorum) const;
  Status CheckPreparedBlock(CheckedBlock* checked, bool require_quorum) const;
  // Applies the entries' rules to a copy of the members; DataLoss on the first broken rule.
  // Fills checked->record_keys.
  Status CheckEntries(CheckedBlock* checked, Members* members) const;
  Result<Members> GenesisMembers(const CheckedBlock& checked) const;

  MerkleLog log_;
  uint64_t height_ = 0;
  Hash last_hash_{};  // zeros before block 0
  int64_t last_timestamp_ = 0;
  Members members_;
  RecordIndex records_;  // record version -> leaf index
};

}  // namespace medhub::ledger
