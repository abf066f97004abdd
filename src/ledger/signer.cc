#include "ledger/signer.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <string>
#include <utility>

#include "core/hash.h"
#include "core/ids.h"

namespace medhub::ledger {

// Owns one EVP_PKEY. Never modified after construction, so it may be shared across threads.
struct KeyHandle {
  explicit KeyHandle(EVP_PKEY* k) : pkey(k) {}
  ~KeyHandle() { EVP_PKEY_free(pkey); }
  KeyHandle(const KeyHandle&) = delete;
  KeyHandle& operator=(const KeyHandle&) = delete;
  EVP_PKEY* pkey;
};

namespace {

// Tree head layout constants; docs/formats/ledger.md ("Tree head") describes them.
constexpr std::string_view kTreeHeadMagic = "MHTH";
constexpr uint8_t kTreeHeadVersion = 1;
constexpr size_t kTreeHeadFixedSize = 4 + 1 + 8 + 32 + 8 + 1;  // everything but the name

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Describes and clears OpenSSL's error queue, so that errors do not leak into later calls.
std::string TakeOpenSslError(std::string_view what) {
  const unsigned long err = ERR_get_error();
  char buf[256] = "no OpenSSL error";
  if (err != 0) ERR_error_string_n(err, buf, sizeof(buf));
  ERR_clear_error();
  return std::string(what) + " (" + buf + ")";
}
// OpenSSL failed on input we trust: Internal.
Status OpenSslError(std::string_view what) { return Status::Internal(TakeOpenSslError(what)); }

Result<std::shared_ptr<const KeyHandle>> Ed25519Handle(EVP_PKEY* pkey, std::string_view what) {
  if (pkey == nullptr) return Status::InvalidArgument(TakeOpenSslError(what));
  auto handle = std::make_shared<const KeyHandle>(pkey);
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument(std::string(what) + ": not an Ed25519 key");
  }
  return std::shared_ptr<const KeyHandle>(std::move(handle));
}

std::string RawKey(const KeyHandle& key, bool private_part) {
  std::string raw(kEd25519KeySize, '\0');
  size_t len = raw.size();
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  const int ok = private_part ? EVP_PKEY_get_raw_private_key(key.pkey, out, &len)
                              : EVP_PKEY_get_raw_public_key(key.pkey, out, &len);
  // Cannot fail: every Ed25519 key has its public part, and PrivateKey always holds the
  // private part. Should OpenSSL fail anyway, the zero bytes will not verify anything.
  if (ok != 1 || len != kEd25519KeySize) ERR_clear_error();
  return raw;
}

// Writes a PEM through a memory BIO; `write` is PEM_write_bio_PUBKEY or similar.
template <typename WriteFn>
std::string ToPem(WriteFn write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio != nullptr && write(bio) == 1) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    if (len > 0) pem.assign(data, static_cast<size_t>(len));
  }
  ERR_clear_error();
  BIO_free(bio);
  return pem;
}

// Refuses to ask for a passphrase: encrypted PEM keys are not supported.
int NoPassphrase(char*, int, int, void*) { return 0; }

// An Ed25519 key's PEM is about 120 bytes; anything past this is not a key.
constexpr size_t kMaxPemSize = 16 * 1024;

// The key `read` parses from `pem`, or nullptr (with OpenSSL's error queue set, or empty
// when the input is too large).
template <typename ReadFn>
EVP_PKEY* FromPemWith(std::string_view pem, ReadFn read) {
  if (pem.size() > kMaxPemSize) return nullptr;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = bio == nullptr ? nullptr : read(bio);
  BIO_free(bio);
  return pkey;
}

}  // namespace

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromRaw(std::string_view raw) {
  if (raw.size() != kEd25519KeySize) {
    return Status::InvalidArgument("an Ed25519 public key is 32 bytes");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size());
  ASSIGN_OR_RETURN(auto handle, Ed25519Handle(pkey, "bad Ed25519 public key"));
  return PublicKey(std::move(handle), std::string(raw));
}

Result<PublicKey> PublicKey::FromHex(std::string_view hex) {
  Result<Hash> bytes = HashFromHex(hex);  // 32 bytes, like a hash
  if (!bytes.ok()) return Status::InvalidArgument("an Ed25519 public key is 64 hex digits");
  return FromRaw(std::string_view(reinterpret_cast<const char*>(bytes->data()), 32));
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  EVP_PKEY* pkey = FromPemWith(
      pem, [](BIO* bio) { return PEM_read_bio_PUBKEY(bio, nullptr, NoPassphrase, nullptr); });
  ASSIGN_OR_RETURN(auto handle, Ed25519Handle(pkey, "bad PEM public key"));
  std::string raw = RawKey(*handle, false);
  return PublicKey(std::move(handle), std::move(raw));
}

std::string PublicKey::Raw() const { return raw_; }
std::string PublicKey::Hex() const { return ToHex(raw_); }
std::string PublicKey::Pem() const {
  return ToPem([this](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key_->pkey); });
}

Status PublicKey::Verify(std::string_view message, const Signature& signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  int ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_->pkey);
  if (ok == 1) {
    ok = EVP_DigestVerify(ctx, signature.data(), signature.size(), Bytes(message), message.size());
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (ok != 1) return Status::DataLoss("Ed25519 signature does not verify");
  return Status::Ok();
}

Status PublicKey::Verify(std::string_view message, std::string_view signature) const {
  Signature sig{};
  if (signature.size() != sig.size()) {
    return Status::InvalidArgument("an Ed25519 signature is 64 bytes, got " +
                                   std::to_string(signature.size()));
  }
  std::memcpy(sig.data(), signature.data(), sig.size());
  return Verify(message, sig);
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::FromHandle(std::shared_ptr<const KeyHandle> key) {
  const std::string raw_public = RawKey(*key, false);
  ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromRaw(raw_public));
  return PrivateKey(std::move(key), std::move(pub));
}

Result<PrivateKey> PrivateKey::Generate() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) return OpenSslError("Ed25519 key generation failed");
  ASSIGN_OR_RETURN(auto handle, Ed25519Handle(pkey, "Ed25519 key generation"));
  return FromHandle(std::move(handle));
}

Result<PrivateKey> PrivateKey::FromRaw(std::string_view raw) {
  if (raw.size() != kEd25519KeySize) {
    return Status::InvalidArgument("an Ed25519 private key is 32 bytes");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size());
  ASSIGN_OR_RETURN(auto handle, Ed25519Handle(pkey, "bad Ed25519 private key"));
  return FromHandle(std::move(handle));
}

Result<PrivateKey> PrivateKey::FromHex(std::string_view hex) {
  Result<Hash> bytes = HashFromHex(hex);
  if (!bytes.ok()) return Status::InvalidArgument("an Ed25519 private key is 64 hex digits");
  Result<PrivateKey> key =
      FromRaw(std::string_view(reinterpret_cast<const char*>(bytes->data()), 32));
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return key;
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  EVP_PKEY* pkey = FromPemWith(
      pem, [](BIO* bio) { return PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr); });
  ASSIGN_OR_RETURN(auto handle, Ed25519Handle(pkey, "bad PEM private key"));
  return FromHandle(std::move(handle));
}

std::string PrivateKey::Raw() const { return RawKey(*key_, true); }
std::string PrivateKey::Hex() const {
  std::string raw = Raw();
  std::string hex = ToHex(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return hex;
}
std::string PrivateKey::Pem() const {
  return ToPem([this](BIO* bio) {
    return PEM_write_bio_PKCS8PrivateKey(bio, key_->pkey, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

Result<Signature> PrivateKey::Sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return OpenSslError("EVP_MD_CTX_new");
  Signature sig{};
  size_t len = sig.size();
  const bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_->pkey) == 1 &&
                  EVP_DigestSign(ctx, sig.data(), &len, Bytes(message), message.size()) == 1 &&
                  len == sig.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) return OpenSslError("Ed25519 signing failed");
  return sig;
}

// ---- Tree heads ----

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
