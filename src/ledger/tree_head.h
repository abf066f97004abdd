// Signed tree heads: a member's signed statement of the log's size and root.
//
// A tree head states that the log held `tree_size` leaves with root `root` at
// `timestamp_us`, according to `signer`. Its canonical bytes (EncodeTreeHead) are what
// the signer signs with its Ed25519 key (core/ed25519.h); docs/formats/ledger.md ("Tree
// head") gives the layout.
//
// Errors: malformed names are InvalidArgument; a signature that does not verify, or
// undecodable signed bytes, is DataLoss.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ed25519.h"
#include "core/status.h"
#include "ledger/merkle.h"

namespace medhub::ledger {

// Limits on TreeHead::signer: 1 to kMaxSignerNameSize bytes of printable ASCII
// (0x21-0x7E), so that a name has exactly one byte form.
inline constexpr size_t kMaxSignerNameSize = 255;
bool IsValidSignerName(std::string_view name);

struct TreeHead {
  uint64_t tree_size = 0;
  Hash root{};
  int64_t timestamp_us = 0;  // microseconds since the Unix epoch, UTC
  std::string signer;        // the member that signs, e.g. "hospital-a"

  friend bool operator==(const TreeHead&, const TreeHead&) = default;
};

struct SignedTreeHead {
  TreeHead head;
  Signature signature{};

  friend bool operator==(const SignedTreeHead&, const SignedTreeHead&) = default;
};

// The canonical bytes of a tree head (docs/formats/ledger.md, "Tree head").
// InvalidArgument if the signer name is not valid.
Result<std::string> EncodeTreeHead(const TreeHead& head);
// The inverse of EncodeTreeHead; DataLoss unless `bytes` is exactly one valid encoding.
Result<TreeHead> DecodeTreeHead(std::string_view bytes);

// Canonical tree head bytes followed by the 64-byte signature.
Result<std::string> EncodeSignedTreeHead(const SignedTreeHead& sth);
Result<SignedTreeHead> DecodeSignedTreeHead(std::string_view bytes);

// Signs `head` with `key`. InvalidArgument if the head cannot be encoded.
Result<SignedTreeHead> SignTreeHead(const TreeHead& head, const PrivateKey& key);
// OK iff sth.signature is `key`'s signature of the canonical bytes of sth.head;
// DataLoss if not, InvalidArgument if the head cannot be encoded.
Status VerifyTreeHead(const SignedTreeHead& sth, const PublicKey& key);

}  // namespace medhub::ledger
