#include "ledger/tree_head.h"

#include <cstring>
#include <string>

#include "core/ids.h"

namespace medhub::ledger {
namespace {

// Tree head layout constants; docs/formats/ledger.md ("Tree head") describes them.
constexpr std::string_view kTreeHeadMagic = "MHTH";
constexpr uint8_t kTreeHeadVersion = 1;
constexpr size_t kTreeHeadFixedSize = 4 + 1 + 8 + 32 + 8 + 1;  // everything but the name

}  // namespace

bool IsValidSignerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSignerNameSize) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

Result<std::string> EncodeTreeHead(const TreeHead& head) {
  if (!IsValidSignerName(head.signer)) {
    return Status::InvalidArgument("signer name must be 1-255 bytes of printable ASCII");
  }
  std::string out;
  out.reserve(kTreeHeadFixedSize + head.signer.size());
  out.append(kTreeHeadMagic);
  out.push_back(static_cast<char>(kTreeHeadVersion));
  PutBigEndian64(&out, head.tree_size);
  out.append(reinterpret_cast<const char*>(head.root.data()), head.root.size());
  PutBigEndian64(&out, static_cast<uint64_t>(head.timestamp_us));  // two's complement
  out.push_back(static_cast<char>(head.signer.size()));
  out.append(head.signer);
  return out;
}

Result<TreeHead> DecodeTreeHead(std::string_view bytes) {
  if (bytes.size() < kTreeHeadFixedSize || bytes.substr(0, 4) != kTreeHeadMagic) {
    return Status::DataLoss("not a medhub tree head");
  }
  if (static_cast<uint8_t>(bytes[4]) != kTreeHeadVersion) {
    return Status::DataLoss("unknown tree head version " +
                            std::to_string(static_cast<uint8_t>(bytes[4])));
  }
  TreeHead head;
  head.tree_size = GetBigEndian64(bytes.substr(5, 8));
  std::memcpy(head.root.data(), bytes.data() + 13, head.root.size());
  head.timestamp_us = static_cast<int64_t>(GetBigEndian64(bytes.substr(45, 8)));
  const size_t name_len = static_cast<uint8_t>(bytes[53]);
  if (bytes.size() != kTreeHeadFixedSize + name_len) {
    return Status::DataLoss("tree head length does not match its signer name length");
  }
  head.signer = std::string(bytes.substr(kTreeHeadFixedSize));
  if (!IsValidSignerName(head.signer)) return Status::DataLoss("bad signer name in tree head");
  return head;
}

Result<std::string> EncodeSignedTreeHead(const SignedTreeHead& sth) {
  ASSIGN_OR_RETURN(std::string out, EncodeTreeHead(sth.head));
  out.append(reinterpret_cast<const char*>(sth.signature.data()), sth.signature.size());
  return out;
}

Result<SignedTreeHead> DecodeSignedTreeHead(std::string_view bytes) {
  if (bytes.size() < kEd25519SignatureSize) return Status::DataLoss("signed tree head too short");
  const size_t head_size = bytes.size() - kEd25519SignatureSize;
  SignedTreeHead sth;
  ASSIGN_OR_RETURN(sth.head, DecodeTreeHead(bytes.substr(0, head_size)));
  std::memcpy(sth.signature.data(), bytes.data() + head_size, sth.signature.size());
  return sth;
}

Result<SignedTreeHead> SignTreeHead(const TreeHead& head, const PrivateKey& key) {
  ASSIGN_OR_RETURN(const std::string bytes, EncodeTreeHead(head));
  ASSIGN_OR_RETURN(Signature sig, key.Sign(bytes));
  return SignedTreeHead{head, sig};
}

Status VerifyTreeHead(const SignedTreeHead& sth, const PublicKey& key) {
  ASSIGN_OR_RETURN(const std::string bytes, EncodeTreeHead(sth.head));
  return key.Verify(bytes, sth.signature);
}

}  // namespace medhub::ledger
