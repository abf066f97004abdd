#include "ledger/state.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "core/hash.h"
#include "core/ids.h"

namespace medhub::ledger {
namespace {

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

Hash RootAfterAppend(const MerkleLog& log, std::span<const Hash> leaf_hashes) {
  // The compact range: perfect subtrees as (leaf count, root), largest first.
  std::vector<std::pair<uint64_t, Hash>> range;
  const uint64_t n = log.size();
  const std::vector<Hash> frontier = log.Frontier();
  size_t next = 0;
  for (int level = std::bit_width(n) - 1; level >= 0; --level) {
    if (((n >> level) & 1) != 0) range.emplace_back(uint64_t{1} << level, frontier[next++]);
  }
  for (const Hash& leaf : leaf_hashes) {
    range.emplace_back(1, leaf);
    while (range.size() >= 2 && range[range.size() - 2].first == range.back().first) {
      const Hash merged = HashChildren(range[range.size() - 2].second, range.back().second);
      range.pop_back();
      range.back() = {range.back().first * 2, merged};
    }
  }
  if (range.empty()) return EmptyRoot();
  Hash root = range.back().second;
  for (size_t i = range.size() - 1; i-- > 0;) root = HashChildren(range[i].second, root);
  return root;
}

RecordKey LedgerState::KeyOf(std::string_view institution, std::string_view type,
                             std::string_view id, uint64_t version) {
  std::string bytes;
  bytes.reserve(institution.size() + type.size() + id.size() + 11);
  bytes.append(institution).push_back('\0');
  bytes.append(type).push_back('\0');
  bytes.append(id).push_back('\0');
  PutBigEndian64(&bytes, version);
  const Sha256Digest d = Sha256(bytes);
  RecordKey key;
  std::memcpy(key.data(), d.data(), key.size());
  return key;
}

uint64_t LedgerState::LastSeq(std::string_view member) const {
  auto it = members_.find(member);
  return it == members_.end() ? 0 : it->second.last_seq;
}

const PublicKey* LedgerState::MemberKey(std::string_view name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second.key;
}

const PublicKey* LedgerState::FirstKey(std::string_view name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second.first_key;
}

std::optional<uint64_t> LedgerState::LookupRecord(std::string_view institution,
                                                  std::string_view type, std::string_view id,
                                                  uint64_t version) const {
  return records_.Find(KeyOf(institution, type, id, version));
}

void LedgerState::Reserve(uint64_t leaves) {
  log_.Reserve(leaves);
  records_.Reserve(leaves);
}

Status LedgerState::CheckChain(const BlockHeader& h) const {
  if (h.height != height_) {
    return Status::DataLoss("height " + Str(h.height) + " where " + Str(height_) + " is next");
  }
  if (h.previous_hash != last_hash_) {
    return Status::DataLoss("previous block hash does not match block " +
                            (height_ == 0 ? std::string("(none)") : Str(height_ - 1)));
  }
  if (h.first_leaf != log_.size()) {
    return Status::DataLoss("first leaf " + Str(h.first_leaf) + " where the log has " +
                            Str(log_.size()) + " leaves");
  }
  if (height_ > 0 && h.timestamp_us < last_timestamp_) {
    return Status::DataLoss("timestamp earlier than the previous block's");
  }
  return Status::Ok();
}

Result<LedgerState::Members> LedgerState::GenesisMembers(const CheckedBlock& checked) const {
  const auto* added = std::get_if<MemberAdded>(&checked.entries.front());
  if (added == nullptr || added->name != checked.block.header.proposer) {
    return Status::DataLoss("block 0 does not start with MemberAdded for its proposer");
  }
  Result<PublicKey> key = PublicKey::FromRaw(added->public_key);
  if (!key.ok()) return Status::DataLoss("bad public key in MemberAdded");
  Members members;
  members.emplace(added->name, Member{*key, *key, 0});
  return members;
}

Status LedgerState::CheckSignatures(const CheckedBlock& checked, const Members& members,
                                    bool require_quorum) const {
  const Block& block = checked.block;
  auto proposer = members.find(block.header.proposer);
  if (proposer == members.end()) {
    return Status::DataLoss("proposer '" + block.header.proposer + "' is not a member");
  }
  RETURN_IF_ERROR(
      proposer->second.key.Verify(ProposalMessage(checked.hash), block.proposer_signature)
          .WithPrefix("proposer signature"));
  std::set<std::string_view> endorsers;
  const std::string endorsed = EndorsementMessage(checked.hash);
  for (const Endorsement& e : block.endorsements) {
    auto member = members.find(e.member);
    if (member == members.end()) return Status::DataLoss("endorser '" + e.member + "' unknown");
    if (!endorsers.insert(e.member).second) return Status::DataLoss("duplicate endorsement");
    RETURN_IF_ERROR(member->second.key.Verify(endorsed, e.signature)
                        .WithPrefix("endorsement by '" + e.member + "'"));
  }
  if (require_quorum && endorsers.size() * 2 <= members.size()) {
    return Status::DataLoss("endorsed by " + Str(endorsers.size()) + " of " + Str(members.size()) +
                            " members, a majority is required");
  }
  return Status::Ok();
}

Status LedgerState::CheckEntries(CheckedBlock* checked, Members* members) const {
  const BlockHeader& h = checked->block.header;
  Member& proposer = members->find(h.proposer)->second;  // CheckSignatures found it
  if (h.last_seq < proposer.last_seq) return Status::DataLoss("last_seq goes backwards");
  uint64_t seq = proposer.last_seq;
  checked->record_keys.clear();
  for (size_t i = 0; i < checked->entries.size(); ++i) {
    const Entry& entry = checked->entries[i];
    const std::string where = "entry " + Str(h.first_leaf + i) + ": ";
    if (const RecordFields* r = AsRecord(entry)) {
      if (r->institution != h.proposer) {
        return Status::DataLoss(where + "record of another institution than the proposer");
      }
      if (r->seq <= seq || r->seq > h.last_seq) {
        return Status::DataLoss(where + "sequence number " + Str(r->seq) + " out of order");
      }
      seq = r->seq;
      const RecordKey key = KeyOf(r->institution, r->type, r->id, r->version);
      if (records_.Contains(key)) {
        return Status::DataLoss(where + RecordName(r->type, r->id, r->version) + " is a duplicate");
      }
      checked->record_keys.push_back(key);
    } else if (const auto* a = std::get_if<AccessLogged>(&entry)) {
      // The audit of an access on the proposer's own store: it follows the AuditEvent's
      // record entry (the writer puts them together; neither is ever proposed alone).
      const RecordFields* event = i == 0 ? nullptr : AsRecord(checked->entries[i - 1]);
      if (a->institution != h.proposer) {
        return Status::DataLoss(where + "access logged for another institution than the proposer");
      }
      if (event == nullptr || event->type != "AuditEvent" || event->deleted) {
        return Status::DataLoss(where + "AccessLogged does not follow an AuditEvent's record");
      }
    } else if (const auto* m = std::get_if<MemberAdded>(&entry)) {
      Result<PublicKey> key = PublicKey::FromRaw(m->public_key);
      if (!key.ok()) return Status::DataLoss(where + "bad public key");
      if (!(h.height == 0 && i == 0) && !members->emplace(m->name, Member{*key, *key, 0}).second) {
        return Status::DataLoss(where + "member '" + m->name + "' added twice");
      }
    } else if (const auto* k = std::get_if<KeyRotated>(&entry)) {
      auto it = members->find(k->name);
      Result<PublicKey> key = PublicKey::FromRaw(k->new_public_key);
      if (it == members->end()) return Status::DataLoss(where + "key rotated for a non-member");
      if (!key.ok()) return Status::DataLoss(where + "bad public key");
      it->second.key = *key;
    }
  }
  members->find(h.proposer)->second.last_seq = h.last_seq;
  std::vector<RecordKey> sorted = checked->record_keys;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Status::DataLoss("a record version appears twice in the block");
  }
  return Status::Ok();
}

Result<CheckedBlock> LedgerState::Check(Block block) const {
  return CheckBlock(std::move(block), /*require_quorum=*/true);
}

Result<CheckedBlock> LedgerState::CheckProposal(Block block) const {
  return CheckBlock(std::move(block), /*require_quorum=*/false);
}

size_t LedgerState::EndorsementsNeeded() const {
  return height_ == 0 ? 1 : members_.size() / 2 + 1;
}

Status LedgerState::CheckEndorsements(const CheckedBlock& checked) const {
  RETURN_IF_ERROR(CheckChain(checked.block.header));
  if (height_ != 0) return CheckSignatures(checked, members_, /*require_quorum=*/true);
  ASSIGN_OR_RETURN(const Members members, GenesisMembers(checked));
  return CheckSignatures(checked, members, /*require_quorum=*/true);
}

Result<CheckedBlock> LedgerState::CheckBlock(Block block, bool require_quorum) const {
  CheckedBlock checked;
  RETURN_IF_ERROR(CheckBlockContents(block, &checked.entries, &checked.leaf_hashes));
  checked.block = std::move(block);
  RETURN_IF_ERROR(CheckPreparedBlock(&checked, require_quorum));
  if (RootAfterAppend(log_, checked.leaf_hashes) != checked.block.header.log_root) {
    return Status::DataLoss("log root does not match the log with this block's entries");
  }
  return checked;
}

Status LedgerState::CheckPrepared(CheckedBlock* checked) const {
  return CheckPreparedBlock(checked, /*require_quorum=*/true);
}

Status LedgerState::CheckPreparedBlock(CheckedBlock* checked, bool require_quorum) const {
  const BlockHeader& h = checked->block.header;
  if (checked->entries.empty() || checked->entries.size() != h.entry_count ||
      checked->leaf_hashes.size() != h.entry_count) {
    return Status::DataLoss("entry count mismatch");
  }
  RETURN_IF_ERROR(CheckChain(h));
  ASSIGN_OR_RETURN(checked->hash, BlockHash(h));
  Members members;
  if (height_ == 0) {
    ASSIGN_OR_RETURN(members, GenesisMembers(*checked));
  } else {
    members = members_;
  }
  RETURN_IF_ERROR(CheckSignatures(*checked, members, require_quorum));
  return CheckEntries(checked, &members);
}

void LedgerState::Apply(CheckedBlock checked) {
  const BlockHeader& h = checked.block.header;
  for (const Hash& leaf : checked.leaf_hashes) log_.AppendLeafHash(leaf);
  size_t next_key = 0;
  for (size_t i = 0; i < checked.entries.size(); ++i) {
    const Entry& entry = checked.entries[i];
    if (AsRecord(entry) != nullptr) {
      records_.Insert(checked.record_keys[next_key++], h.first_leaf + i);
    } else if (const auto* m = std::get_if<MemberAdded>(&entry)) {
      const PublicKey key = PublicKey::FromRaw(m->public_key).value();  // Check decoded it
      members_.emplace(m->name, Member{key, key, 0});
    } else if (const auto* k = std::get_if<KeyRotated>(&entry)) {
      members_.find(k->name)->second.key = PublicKey::FromRaw(k->new_public_key).value();
    }
  }
  members_.find(h.proposer)->second.last_seq = h.last_seq;
  height_ = h.height + 1;
  last_hash_ = checked.hash;
  last_timestamp_ = h.timestamp_us;
}

}  // namespace medhub::ledger
