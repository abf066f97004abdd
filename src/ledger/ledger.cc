#include "ledger/ledger.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "core/time.h"
#include "ledger/member_files.h"

namespace medhub::ledger {
namespace {

std::string PathIn(const std::string& dir, const char* file) {
  return (std::filesystem::path(dir) / file).string();
}

Status CreateDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return Status::Ok();
}

Result<PrivateKey> LoadKey(const LedgerOptions& options) {
  const std::string path =
      options.key_file.empty() ? PathIn(options.dir, kMemberKeyFile) : options.key_file;
  if (!options.consortium.empty()) {
    Result<PrivateKey> key = ReadMemberKey(path);
    if (key.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition("no member key at " + path +
                                        " (make one with `medhub ledger keygen`)");
    }
    // A copy in the ledger directory lets `medhub ledger verify|status` open it offline.
    const std::string copy = PathIn(options.dir, kMemberKeyFile);
    if (key.ok() && !options.read_only && !std::filesystem::exists(copy)) {
      std::string pem = key->Pem();
      const Status written = WriteFileAtomically(copy, pem, 0600);
      OPENSSL_cleanse(pem.data(), pem.size());
      RETURN_IF_ERROR(written);
    }
    return key;
  }
  if (options.read_only) {
    Result<PrivateKey> key = ReadMemberKey(path);
    if (key.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no ledger at " + options.dir);
    }
    return key;
  }
  bool created = false;
  return ReadOrCreateMemberKey(path, &created);
}

bool SameMembers(const std::vector<MemberInfo>& a, const std::vector<MemberInfo>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.public_key == y.public_key;
  });
}

// Checks members.json against this member's key, creating it on a writable first open.
Status CheckMembersFile(const LedgerOptions& options, const PublicKey& key) {
  const std::string path = PathIn(options.dir, kMembersFile);
  Result<std::vector<MemberInfo>> members = ReadMembers(path);
  if (members.status().code() == StatusCode::kNotFound && !options.read_only) {
    if (!options.consortium.empty()) RETURN_IF_ERROR(WriteMembers(path, options.consortium));
    if (options.consortium.empty()) return WriteMembers(path, {MemberInfo{options.member, key}});
    members = options.consortium;
  }
  if (!members.ok()) return members.status();
  if (!options.consortium.empty() && !SameMembers(*members, options.consortium)) {
    return Status::FailedPrecondition(path + " lists other members than the consortium's");
  }
  for (const MemberInfo& m : *members) {
    if (m.name != options.member) continue;
    if (m.public_key == key) return Status::Ok();
    return Status::FailedPrecondition(PathIn(options.dir, kMemberKeyFile) +
                                      " does not hold the key " + path + " lists for '" +
                                      options.member + "'");
  }
  std::string names;
  for (const MemberInfo& m : *members) names += (names.empty() ? "" : ", ") + m.name;
  return Status::FailedPrecondition("the ledger at " + options.dir + " belongs to " + names +
                                    ", not to '" + options.member + "' (see --member)");
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options) {
  if (!IsValidSignerName(options.member)) {
    return Status::InvalidArgument("a member name is 1-255 printable ASCII characters");
  }
  if (!options.read_only) RETURN_IF_ERROR(CreateDirectory(options.dir));
  ASSIGN_OR_RETURN(PrivateKey key, LoadKey(options));
  RETURN_IF_ERROR(CheckMembersFile(options, key.public_key()));
  std::unique_ptr<Ledger> ledger(new Ledger(options.member, std::move(key)));
  ledger->consortium_ = !options.consortium.empty();
  RETURN_IF_ERROR(ledger->Load(options));
  if (ledger->state_.height() == 0 && !options.consortium.empty()) {
    ASSIGN_OR_RETURN(ledger->head_, ledger->SignHead());
    return ledger;  // block 0 comes from the consortium's ordering
  }
  if (ledger->state_.height() == 0) {
    if (options.read_only) return Status::NotFound("the ledger at " + options.dir + " is empty");
    RETURN_IF_ERROR(ledger->AppendGenesis());
  }
  RETURN_IF_ERROR(ledger->CheckAnchors(options));
  ASSIGN_OR_RETURN(ledger->head_, ledger->SignHead());
  return ledger;
}

Status Ledger::Load(const LedgerOptions& options) {
  BlockFileOptions file_options;
  file_options.read_only = options.read_only;
  file_options.torn_tail = options.torn_tail;
  file_options.log = options.log;
  auto visit = [this](uint64_t, uint64_t offset, std::string_view payload) -> Status {
    ASSIGN_OR_RETURN(Block block, DecodeBlock(payload));
    ASSIGN_OR_RETURN(CheckedBlock checked, state_.Check(std::move(block)));
    const BlockHeader& h = checked.block.header;
    blocks_.push_back({checked.hash, offset, h.first_leaf, h.entry_count});
    state_.Apply(std::move(checked));
    return Status::Ok();
  };
  ASSIGN_OR_RETURN(file_, BlockFile::Open(PathIn(options.dir, kBlocksFile), file_options, visit));
  return Status::Ok();
}

// The ledger must say that this member's current key is the one in member.key (and so in
// members.json, which CheckMembersFile compared).
Status Ledger::CheckAnchors(const LedgerOptions& options) const {
  const PublicKey* on_ledger = state_.MemberKey(member_);
  if (on_ledger == nullptr) {
    return Status::FailedPrecondition("member '" + member_ + "' is not on the ledger at " +
                                      options.dir);
  }
  if (!(*on_ledger == key_.public_key())) {
    return Status::DataLoss("the ledger's key for '" + member_ + "' is not the one in " +
                            PathIn(options.dir, kMembersFile));
  }
  return Status::Ok();
}

Status Ledger::AppendGenesis() {
  std::vector<Entry> entries;
  entries.push_back(MemberAdded{member_, key_.public_key().Raw()});
  return Append(std::move(entries), 0).status();
}

Result<Block> Ledger::MakeBlock(std::vector<std::string> entries, const std::vector<Hash>& leaves,
                                uint64_t last_seq) const {
  BlockHeader h;
  h.height = state_.height();
  h.previous_hash = state_.last_hash();
  h.first_leaf = state_.log().size();
  h.entry_count = static_cast<uint32_t>(entries.size());
  h.entries_root = RootFromLeafHashes(leaves);
  h.log_size = h.first_leaf + h.entry_count;
  h.log_root = RootAfterAppend(state_.log(), leaves);
  h.timestamp_us = std::max(NowMicros(), state_.last_timestamp());
  h.last_seq = last_seq;
  h.proposer = member_;
  return SealBlock(std::move(h), std::move(entries), key_);
}

Result<CheckedBlock> Ledger::Prepare(std::vector<Entry> entries, uint64_t last_seq) {
  if (entries.empty() || entries.size() > kMaxBlockEntries) {
    return Status::InvalidArgument("a block holds 1 to " + std::to_string(kMaxBlockEntries) +
                                   " entries");
  }
  std::vector<std::string> bytes;
  std::vector<Hash> leaves;
  bytes.reserve(entries.size());
  leaves.reserve(entries.size());
  for (const Entry& entry : entries) {
    ASSIGN_OR_RETURN(std::string b, EncodeEntry(entry));
    leaves.push_back(HashLeaf(b));
    bytes.push_back(std::move(b));
  }
  // Only the holder of append_mu_ changes state_, so reading it without mu_ is safe.
  CheckedBlock checked;
  ASSIGN_OR_RETURN(checked.block, MakeBlock(std::move(bytes), leaves, last_seq));
  checked.entries = std::move(entries);
  checked.leaf_hashes = std::move(leaves);
  const Status s =
      consortium_ ? state_.CheckPreparedProposal(&checked) : state_.CheckPrepared(&checked);
  if (!s.ok()) {
    return Status::FailedPrecondition(s.message());
  }
  return checked;
}

Result<uint64_t> Ledger::Append(std::vector<Entry> entries, uint64_t last_seq) {
  if (consortium_) {
    return Status::FailedPrecondition("a consortium member's blocks are ordered (Consortium)");
  }
  std::lock_guard append_lock(append_mu_);
  ASSIGN_OR_RETURN(CheckedBlock checked, Prepare(std::move(entries), last_seq));
  return Commit(std::move(checked));
}

Result<uint64_t> Ledger::Commit(CheckedBlock checked) {
  ASSIGN_OR_RETURN(const std::string payload, EncodeBlock(checked.block));
  ASSIGN_OR_RETURN(const uint64_t offset, file_->Append(payload));
  const BlockHeader& h = checked.block.header;
  const BlockLocation location{checked.hash, offset, h.first_leaf, h.entry_count};
  const uint64_t height = h.height;
  ASSIGN_OR_RETURN(SignedTreeHead head,
                   SignTreeHead(TreeHead{h.log_size, h.log_root, h.timestamp_us, member_}, key_));
  std::unique_lock lock(mu_);
  state_.Apply(std::move(checked));
  blocks_.push_back(location);
  head_ = std::move(head);
  return height;
}

Result<Block> Ledger::Propose(std::vector<Entry> entries, uint64_t last_seq) {
  std::lock_guard append_lock(append_mu_);
  ASSIGN_OR_RETURN(CheckedBlock checked, Prepare(std::move(entries), last_seq));
  return std::move(checked.block);
}

Result<Block> Ledger::ProposeGenesis(const std::vector<MemberInfo>& members) {
  std::vector<Entry> entries;
  entries.push_back(MemberAdded{member_, key_.public_key().Raw()});
  for (const MemberInfo& m : members) {
    if (m.name != member_) entries.push_back(MemberAdded{m.name, m.public_key.Raw()});
  }
  std::lock_guard append_lock(append_mu_);
  if (state_.height() != 0) return Status::FailedPrecondition("the ledger has a block 0");
  ASSIGN_OR_RETURN(CheckedBlock checked, Prepare(std::move(entries), 0));
  return std::move(checked.block);
}

Result<CheckedBlock> Ledger::CheckProposal(Block block) const {
  std::shared_lock lock(mu_);
  return state_.CheckProposal(std::move(block));
}

Result<Signature> Ledger::Endorse(const Hash& block_hash) const {
  return key_.Sign(EndorsementMessage(block_hash));
}

Result<uint64_t> Ledger::AppendChecked(CheckedBlock checked) {
  std::lock_guard append_lock(append_mu_);
  ASSIGN_OR_RETURN(const Hash hash, BlockHash(checked.block.header));
  if (hash != checked.hash) return Status::InvalidArgument("the block changed since its check");
  RETURN_IF_ERROR(state_.CheckEndorsements(checked));
  return Commit(std::move(checked));
}

size_t Ledger::EndorsementsNeeded() const {
  std::shared_lock lock(mu_);
  return state_.EndorsementsNeeded();
}

Result<PublicKey> Ledger::MemberKey(std::string_view name) const {
  std::shared_lock lock(mu_);
  const PublicKey* key = state_.MemberKey(name);
  if (key == nullptr) return Status::NotFound("'" + std::string(name) + "' is not a member");
  return *key;
}

Result<uint64_t> Ledger::AppendBlock(Block block) {
  std::lock_guard append_lock(append_mu_);
  ASSIGN_OR_RETURN(CheckedBlock checked, state_.Check(std::move(block)));
  return Commit(std::move(checked));
}

Result<SignedTreeHead> Ledger::SignHead() const {
  const MerkleLog& log = state_.log();
  return SignTreeHead(TreeHead{log.size(), log.Root(), state_.last_timestamp(), member_}, key_);
}

SignedTreeHead Ledger::Head() const {
  std::shared_lock lock(mu_);
  return head_;
}

uint64_t Ledger::height() const {
  std::shared_lock lock(mu_);
  return state_.height();
}

uint64_t Ledger::tree_size() const {
  std::shared_lock lock(mu_);
  return state_.log().size();
}

uint64_t Ledger::last_seq() const {
  std::shared_lock lock(mu_);
  return state_.LastSeq(member_);
}

Result<Proof> Ledger::InclusionProof(uint64_t leaf_index, uint64_t tree_size) const {
  std::shared_lock lock(mu_);
  return state_.log().InclusionProof(leaf_index, tree_size);
}

Result<Proof> Ledger::ConsistencyProof(uint64_t size1, uint64_t size2) const {
  std::shared_lock lock(mu_);
  return state_.log().ConsistencyProof(size1, size2);
}

Result<Hash> Ledger::RootAt(uint64_t tree_size) const {
  std::shared_lock lock(mu_);
  return state_.log().RootAt(tree_size);
}

Result<Hash> Ledger::LeafHash(uint64_t leaf_index) const {
  std::shared_lock lock(mu_);
  return state_.log().LeafHash(leaf_index);
}

Result<BlockLocation> Ledger::Location(uint64_t height) const {
  std::shared_lock lock(mu_);
  if (height >= blocks_.size()) {
    return Status::NotFound("no block " + std::to_string(height) + " (the ledger has " +
                            std::to_string(blocks_.size()) + ")");
  }
  return blocks_[height];
}

Result<Block> Ledger::ReadBlock(uint64_t height) const {
  ASSIGN_OR_RETURN(const BlockLocation location, Location(height));
  ASSIGN_OR_RETURN(const std::string payload, file_->Read(location.offset));
  ASSIGN_OR_RETURN(Block block, DecodeBlock(payload));
  RETURN_IF_ERROR(CheckBlockContents(block));
  ASSIGN_OR_RETURN(const Hash hash, BlockHash(block.header));
  if (hash != location.hash) {
    return Status::DataLoss("block " + std::to_string(height) +
                            " changed on disk since it was validated");
  }
  return block;
}

Result<std::string> Ledger::EntryBytes(uint64_t leaf_index) const {
  BlockLocation location;
  Hash leaf_hash{};
  {
    std::shared_lock lock(mu_);
    auto after =
        std::upper_bound(blocks_.begin(), blocks_.end(), leaf_index,
                         [](uint64_t leaf, const BlockLocation& b) { return leaf < b.first_leaf; });
    if (leaf_index >= state_.log().size() || after == blocks_.begin()) {
      return Status::NotFound("no leaf " + std::to_string(leaf_index));
    }
    location = *(after - 1);
    leaf_hash = state_.log().LeafHash(leaf_index).value();
  }
  // Only the one entry is checked (against the log), not the whole block.
  ASSIGN_OR_RETURN(const std::string payload, file_->Read(location.offset));
  ASSIGN_OR_RETURN(Block block, DecodeBlock(payload));
  const uint64_t i = leaf_index - location.first_leaf;
  if (block.header.first_leaf != location.first_leaf || i >= block.entries.size() ||
      HashLeaf(block.entries[i]) != leaf_hash) {
    return Status::DataLoss("leaf " + std::to_string(leaf_index) +
                            " changed on disk since it was validated");
  }
  return std::move(block.entries[i]);
}

Result<uint64_t> Ledger::LookupLeaf(std::string_view type, std::string_view id,
                                    uint64_t version) const {
  std::shared_lock lock(mu_);
  std::optional<uint64_t> leaf = state_.LookupRecord(member_, type, id, version);
  if (!leaf) return Status::NotFound(RecordName(type, id, version) + " is not on the ledger");
  return *leaf;
}

}  // namespace medhub::ledger
