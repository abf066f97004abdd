// Ed25519 signing keys (RFC 8032), through OpenSSL 3.
//
// PrivateKey and PublicKey wrap Ed25519 keys. Keys travel as their raw 32 bytes (the
// private key's seed, the public key's point), as 64 hex digits, or as PEM (PKCS#8
// "PRIVATE KEY" / SubjectPublicKeyInfo "PUBLIC KEY"). Reading and writing key files is the
// caller's business: these functions only encode and decode. docs/formats/ledger.md
// ("Keys") describes the encodings.
//
// Users: the ledger (block and tree head signatures) and, later, security (tokens). Every
// structure a caller signs should begin with its own four-byte magic, so that a signature
// over one kind of message can never be replayed as a signature over another.
//
// Errors: malformed keys or signature lengths are InvalidArgument; a signature that does
// not verify is DataLoss; an OpenSSL failure is Internal.
//
// Thread-safety: keys are immutable after construction; copies share the OpenSSL key, and
// Sign/Verify may be called from many threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub {

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
using Signature = std::array<uint8_t, kEd25519SignatureSize>;

// The signature's 64 bytes as a string.
inline std::string_view SignatureBytes(const Signature& sig) {
  return std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size());
}

struct KeyHandle;  // the OpenSSL key, defined in ed25519.cc

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

}  // namespace medhub
