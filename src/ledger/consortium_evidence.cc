// The consortium's equivocation checks: signed tree heads exchanged through ZooKeeper and
// blocks signed twice at one height (consortium.h, evidence.h).
#include "core/hash.h"
#include "core/time.h"
#include "ledger/consortium.h"
#include "ledger/zk_client.h"

namespace medhub::ledger {

void Consortium::Report(EvidenceRecord record) {
  record.reporter = ledger_->member();
  record.detected_us = NowMicros();
  bool added = false;
  const Status s = evidence_->Add(record, &added);
  if (!s.ok()) Log("cannot keep evidence: " + s.ToString());
  if (added) {
    Log("EVIDENCE: member '" + record.member + "' signed two different " + record.kind + "s at " +
        std::to_string(record.position) + ": " + record.note);
  }
}

// Remembers which block each member signed at each height; a second, different one with a
// valid proposer signature is evidence. The block this member holds at that height counts.
void Consortium::NoteSigned(const Block& block, const Hash& hash) {
  const std::string& proposer = block.header.proposer;
  const uint64_t height = block.header.height;
  Result<PublicKey> key = KeyFor(proposer);
  if (!key.ok() || !key->Verify(ProposalMessage(hash), block.proposer_signature).ok()) return;
  const std::string statement = SignedHeaderHex(block);
  auto report = [&](const std::string& first, const char* note) {
    Report(EvidenceRecord{"block", proposer, height, first, statement, "", 0, note});
  };
  if (height < ledger_->height()) {
    Result<Block> local = ledger_->ReadBlock(height);
    if (local.ok() && local->header.proposer == proposer) {
      Result<Hash> local_hash = BlockHash(local->header);
      if (local_hash.ok() && *local_hash != hash) {
        report(SignedHeaderHex(*local), "a second block at a height already on the ledger");
      }
    }
  }
  auto [it, inserted] =
      signed_at_.emplace(std::make_pair(proposer, height), std::make_pair(hash, statement));
  if (!inserted && it->second.first != hash) report(it->second.second, "two proposals");
}

void Consortium::CheckHead(const std::string& member, const std::string& bytes) {
  Result<SignedTreeHead> sth = DecodeSignedTreeHead(bytes);
  Result<PublicKey> key = KeyFor(member);
  if (!sth.ok() || !key.ok() || sth->head.signer != member) return;
  if (!VerifyTreeHead(*sth, *key).ok()) return;
  const uint64_t size = sth->head.tree_size;
  auto [it, inserted] = heads_seen_.emplace(std::make_pair(member, size), bytes);
  if (!inserted && it->second != bytes) {
    Result<SignedTreeHead> earlier = DecodeSignedTreeHead(it->second);
    if (earlier.ok() && earlier->head.root != sth->head.root) {
      Report(EvidenceRecord{"tree_head", member, size, ToHex(it->second), ToHex(bytes), "", 0,
                            "two signed heads for one size with different roots"});
    }
  }
  if (size == 0 || size > ledger_->tree_size()) return;
  Result<Hash> root = ledger_->RootAt(size);
  if (root.ok() && *root != sth->head.root) {
    Report(EvidenceRecord{"tree_head", member, size, ToHex(*root), ToHex(bytes), "", 0,
                          "a signed head whose root differs from this member's log (first: "
                          "the root here)"});
  }
}

Status Consortium::ExchangeHeads() {
  std::shared_ptr<ZkClient> zk = Session();
  const std::string heads = options_.root + "/heads/";
  const SignedTreeHead head = ledger_->Head();
  if (head.head.tree_size != published_size_ && ledger_->height() > 0) {
    ASSIGN_OR_RETURN(const std::string bytes, EncodeSignedTreeHead(head));
    RETURN_IF_ERROR(zk->Put(heads + ledger_->member(), bytes));
    published_size_ = head.head.tree_size;
  }
  for (const MemberInfo& m : options_.members) {
    if (m.name == ledger_->member()) continue;
    Result<std::string> bytes = zk->Get(heads + m.name, true);
    if (bytes.status().code() == StatusCode::kNotFound) continue;
    if (!bytes.ok()) return bytes.status();
    CheckHead(m.name, *bytes);
  }
  return Status::Ok();
}

}  // namespace medhub::ledger
