#include "core/ed25519.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <string>
#include <utility>

#include "core/hash.h"

namespace medhub {

// Owns one EVP_PKEY. Never modified after construction, so it may be shared across threads.
struct KeyHandle {
  explicit KeyHandle(EVP_PKEY* k) : pkey(k) {}
  ~KeyHandle() { EVP_PKEY_free(pkey); }
  KeyHandle(const KeyHandle&) = delete;
  KeyHandle& operator=(const KeyHandle&) = delete;
  EVP_PKEY* pkey;
};

namespace {

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

// Decodes exactly 32 bytes from 64 hex digits (either case) into *out; false otherwise.
bool DecodeHex32(std::string_view hex, std::string* out) {
  if (hex.size() != 2 * kEd25519KeySize) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->assign(kEd25519KeySize, '\0');
  for (size_t i = 0; i < kEd25519KeySize; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
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
  std::string raw;
  if (!DecodeHex32(hex, &raw))
    return Status::InvalidArgument("an Ed25519 public key is 64 hex digits");
  return FromRaw(raw);
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
  std::string raw;
  const bool ok = DecodeHex32(hex, &raw);
  Result<PrivateKey> key =
      ok ? FromRaw(raw)
         : Result<PrivateKey>(Status::InvalidArgument("an Ed25519 private key is 64 hex digits"));
  OPENSSL_cleanse(raw.data(), raw.size());
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

}  // namespace medhub
