#include "ledger/block.h"

#include <cstring>
#include <string>
#include <utility>

#include "core/hash.h"
#include "ledger/bytes.h"
#include "ledger/entry.h"
#include "ledger/tree_head.h"

namespace medhub::ledger {
namespace {

// Everything in the header but the proposer's name (docs/formats/ledger.md, "Blocks").
constexpr size_t kHeaderFixedSize = 4 + 1 + 8 + 32 + 8 + 4 + 32 + 8 + 32 + 8 + 8 + 1;

void PutSignature(std::string* out, const Signature& sig) { out->append(SignatureBytes(sig)); }

bool ReadSignature(ByteReader* in, Signature* sig) {
  std::string_view b;
  if (!in->Bytes(sig->size(), &b)) return false;
  std::memcpy(sig->data(), b.data(), sig->size());
  return true;
}

Status DecodeHeader(ByteReader* in, BlockHeader* h) {
  std::string_view magic;
  uint8_t version = 0;
  if (!in->Bytes(4, &magic) || magic != kBlockMagic) return Status::DataLoss("not a block");
  if (!in->U8(&version) || version != kBlockFormatVersion) {
    return Status::DataLoss("unknown block format version " + std::to_string(version));
  }
  uint64_t timestamp = 0;
  const bool ok = in->U64(&h->height) && in->HashValue(&h->previous_hash) &&
                  in->U64(&h->first_leaf) && in->U32(&h->entry_count) &&
                  in->HashValue(&h->entries_root) && in->U64(&h->log_size) &&
                  in->HashValue(&h->log_root) && in->U64(&timestamp) && in->U64(&h->last_seq) &&
                  in->String8(&h->proposer);
  if (!ok) return Status::DataLoss("block header cut short");
  h->timestamp_us = static_cast<int64_t>(timestamp);
  if (!IsValidSignerName(h->proposer)) return Status::DataLoss("bad proposer name in block");
  if (h->entry_count > kMaxBlockEntries) return Status::DataLoss("too many entries in block");
  return Status::Ok();
}

Status DecodeBody(ByteReader* in, Block* block) {
  block->entries.resize(block->header.entry_count);
  for (std::string& entry : block->entries) {
    uint32_t size = 0;
    std::string_view bytes;
    if (!in->U32(&size) || !in->Bytes(size, &bytes))
      return Status::DataLoss("block entries cut short");
    entry.assign(bytes);
  }
  uint16_t endorsements = 0;
  if (!ReadSignature(in, &block->proposer_signature) || !in->U16(&endorsements)) {
    return Status::DataLoss("block signature cut short");
  }
  if (endorsements > kMaxEndorsements) return Status::DataLoss("too many endorsements");
  block->endorsements.resize(endorsements);
  for (Endorsement& e : block->endorsements) {
    if (!in->String8(&e.member) || !ReadSignature(in, &e.signature)) {
      return Status::DataLoss("block endorsements cut short");
    }
    if (!IsValidSignerName(e.member)) return Status::DataLoss("bad endorser name in block");
  }
  if (!in->done()) return Status::DataLoss("trailing bytes after block");
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeBlockHeader(const BlockHeader& h) {
  if (!IsValidSignerName(h.proposer)) return Status::InvalidArgument("bad proposer name");
  std::string out;
  out.reserve(kHeaderFixedSize + h.proposer.size());
  out.append(kBlockMagic);
  PutU8(&out, kBlockFormatVersion);
  PutU64(&out, h.height);
  PutHash(&out, h.previous_hash);
  PutU64(&out, h.first_leaf);
  PutU32(&out, h.entry_count);
  PutHash(&out, h.entries_root);
  PutU64(&out, h.log_size);
  PutHash(&out, h.log_root);
  PutU64(&out, static_cast<uint64_t>(h.timestamp_us));  // two's complement
  PutU64(&out, h.last_seq);
  PutString8(&out, h.proposer);
  return out;
}

Result<Hash> BlockHash(const BlockHeader& header) {
  ASSIGN_OR_RETURN(const std::string bytes, EncodeBlockHeader(header));
  return Sha256(bytes);
}

std::string ProposalMessage(const Hash& block_hash) {
  std::string m(kProposalMagic);
  PutHash(&m, block_hash);
  return m;
}

std::string EndorsementMessage(const Hash& block_hash) {
  std::string m(kEndorsementMagic);
  PutHash(&m, block_hash);
  return m;
}

Result<std::string> EncodeBlock(const Block& block) {
  if (block.entries.size() != block.header.entry_count || block.entries.size() > kMaxBlockEntries) {
    return Status::InvalidArgument("entry_count must equal the number of entries (at most " +
                                   std::to_string(kMaxBlockEntries) + ")");
  }
  if (block.endorsements.size() > kMaxEndorsements) {
    return Status::InvalidArgument("too many endorsements");
  }
  ASSIGN_OR_RETURN(std::string out, EncodeBlockHeader(block.header));
  for (const std::string& entry : block.entries) {
    PutU32(&out, static_cast<uint32_t>(entry.size()));
    out.append(entry);
  }
  PutSignature(&out, block.proposer_signature);
  PutU16(&out, static_cast<uint16_t>(block.endorsements.size()));
  for (const Endorsement& e : block.endorsements) {
    if (!IsValidSignerName(e.member)) return Status::InvalidArgument("bad endorser name");
    PutString8(&out, e.member);
    PutSignature(&out, e.signature);
  }
  return out;
}

Result<Block> DecodeBlock(std::string_view bytes) {
  ByteReader in(bytes);
  Block block;
  RETURN_IF_ERROR(DecodeHeader(&in, &block.header));
  RETURN_IF_ERROR(DecodeBody(&in, &block));
  return block;
}

Status CheckBlockContents(const Block& block, std::vector<Entry>* entries,
                          std::vector<Hash>* leaf_hashes) {
  const BlockHeader& h = block.header;
  if (block.entries.empty()) return Status::DataLoss("block without entries");
  if (h.entry_count != block.entries.size()) return Status::DataLoss("entry count mismatch");
  if (h.log_size != h.first_leaf + h.entry_count || h.log_size < h.first_leaf) {
    return Status::DataLoss("log size is not first leaf + entry count");
  }
  std::vector<Hash> own_leaves;
  std::vector<Hash>& leaves = leaf_hashes ? *leaf_hashes : own_leaves;
  leaves.clear();
  leaves.reserve(block.entries.size());
  if (entries) entries->clear();
  if (entries) entries->reserve(block.entries.size());
  for (size_t i = 0; i < block.entries.size(); ++i) {
    Result<Entry> entry = DecodeEntry(block.entries[i]);
    if (!entry.ok()) return entry.status().WithPrefix("entry " + std::to_string(h.first_leaf + i));
    if (entries) entries->push_back(std::move(entry).value());
    leaves.push_back(HashLeaf(block.entries[i]));
  }
  if (RootFromLeafHashes(leaves) != h.entries_root) {
    return Status::DataLoss("entries root does not match the entries");
  }
  return Status::Ok();
}

Result<Block> SealBlock(BlockHeader header, std::vector<std::string> entries,
                        const PrivateKey& key) {
  Block block;
  block.header = std::move(header);
  block.entries = std::move(entries);
  ASSIGN_OR_RETURN(const Hash hash, BlockHash(block.header));
  ASSIGN_OR_RETURN(block.proposer_signature, key.Sign(ProposalMessage(hash)));
  ASSIGN_OR_RETURN(Signature endorsement, key.Sign(EndorsementMessage(hash)));
  block.endorsements.push_back({block.header.proposer, endorsement});
  return block;
}

}  // namespace medhub::ledger
