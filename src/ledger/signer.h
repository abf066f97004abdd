// Ed25519 keys and signed tree heads.
//
// PrivateKey and PublicKey wrap Ed25519 keys (RFC 8032) held by OpenSSL 3. Keys travel as
// their raw 32 bytes (the private key's seed, the public key's point), as 64 hex digits,
// or as PEM (PKCS#8 "PRIVATE KEY" / SubjectPublicKeyInfo "PUBLIC KEY"). Reading and writing
// key files is the caller's business: these functions only encode and decode.
//
// A tree head states that the log held `tree_size` leaves with root `root` at
// `timestamp_us`, according to `signer`. Its canonical bytes (EncodeTreeHead) are what
// the signer signs; docs/formats/ledger.md gives the layout.
//
// Errors: malformed keys, names or lengths are InvalidArgument; a signature that does not
// verify, or undecodable signed bytes, is DataLoss; an OpenSSL failure is Internal.
//
// Thread-safety: keys are immutable after construction; copies share the OpenSSL key, and
// Sign/Verify may be called from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/merkle.h"

namespace medhub::ledger {

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
using Signature = std::array<uint8_t, kEd25519SignatureSize>;

struct KeyHandle;  // the OpenSSL key, defined in signer.cc

class PublicKey {
 public:
  static Result<PublicKey> FromRaw(std::string_view raw);  // 32 bytes
  static Result<PublicKey> FromHex(std::string_view hex);  // 64 hex digits
  static Result<PublicKey> FromPem(std::string_view pem);  // an Ed25519 "PUBLIC KEY"

  std::string Raw() const;  // 32 bytes
  std::string Hex() const;  // 64 lower-case hex digits
  std::string Pem() const;

  // OK iff `signature` is this key's Ed25519 signature of `message`; DataLoss otherwise.
  Status Verify(std::string_view message, const Signature& signature) const;
  // The same for a signature given as bytes; InvalidArgument unless it is 64 bytes.
  Status Verify(std::string_view message, std::string_view signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.raw_ == b.raw_; }

 private:
  PublicKey(std::shared_ptr<const KeyHandle> key, std::string raw)
      : key_(std::move(key)), raw_(std::move(raw)) {}
  friend class PrivateKey;

  std::shared_ptr<const KeyHandle> key_;  // never null
  std::string raw_;
};

class PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static Result<PrivateKey> Generate();
  static Result<PrivateKey> FromRaw(std::string_view raw);  // the 32-byte seed
  static Result<PrivateKey> FromHex(std::string_view hex);  // 64 hex digits
  static Result<PrivateKey> FromPem(std::string_view pem);  // an Ed25519 "PRIVATE KEY"

  // Secret material: the caller must keep these strings secret and wipe them.
  std::string Raw() const;
  std::string Hex() const;
  std::string Pem() const;

  const PublicKey& public_key() const { return public_key_; }

  // The Ed25519 signature of `message`. Internal if OpenSSL fails.
  Result<Signature> Sign(std::string_view message) const;

 private:
  PrivateKey(std::shared_ptr<const KeyHandle> key, PublicKey public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}
  static Result<PrivateKey> FromHandle(std::shared_ptr<const KeyHandle> key);

  std::shared_ptr<const KeyHandle> key_;  // never null
  PublicKey public_key_;
};

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
