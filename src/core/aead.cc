#include "core/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/hash.h"

namespace medhub {
namespace {

[[noreturn]] void Abort(const char* what) {
  std::fprintf(stderr, "medhub: %s\n", what);
  std::abort();
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// One cipher context per thread and direction. OpenSSL resets a context (frees and
// re-creates its provider state) whenever Init is given the cipher, and expands the AES key
// (and the GHASH key) whenever it is given a key; both are done only when needed: the
// cipher on first use, the key when it differs from the last one. A new nonce alone is
// cheap. The cached key copy is wiped when the thread ends.
class ThreadCipher {
 public:
  ThreadCipher() : ctx_(EVP_CIPHER_CTX_new()) {}
  ~ThreadCipher() {
    EVP_CIPHER_CTX_free(ctx_);
    OPENSSL_cleanse(key_, sizeof(key_));
  }
  ThreadCipher(const ThreadCipher&) = delete;
  ThreadCipher& operator=(const ThreadCipher&) = delete;

  // Initialises the context for one message under `key` (kAeadKeySize bytes) and `nonce`.
  bool Init(bool encrypt, std::string_view key, std::string_view nonce) {
    if (ctx_ == nullptr || Aes256Gcm() == nullptr) Abort("OpenSSL AES-256-GCM unavailable");
    const bool same_key = keyed_ && CRYPTO_memcmp(key.data(), key_, sizeof(key_)) == 0;
    const EVP_CIPHER* cipher = has_cipher_ ? nullptr : Aes256Gcm();
    const auto* k = same_key ? nullptr : reinterpret_cast<const unsigned char*>(key.data());
    const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
    keyed_ = false;  // until this Init succeeds
    const int ok = encrypt ? EVP_EncryptInit_ex2(ctx_, cipher, k, iv, nullptr)
                           : EVP_DecryptInit_ex2(ctx_, cipher, k, iv, nullptr);
    if (ok != 1) {
      has_cipher_ = false;  // start over next time
      return false;
    }
    has_cipher_ = true;
    if (!same_key) std::memcpy(key_, key.data(), sizeof(key_));
    keyed_ = true;
    return true;
  }
  EVP_CIPHER_CTX* get() { return ctx_; }

 private:
  EVP_CIPHER_CTX* ctx_;
  bool has_cipher_ = false;
  bool keyed_ = false;
  unsigned char key_[kAeadKeySize] = {};
};

ThreadCipher& Sealer() {
  thread_local ThreadCipher cipher;
  return cipher;
}

ThreadCipher& Opener() {
  thread_local ThreadCipher cipher;
  return cipher;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int DecodeBase64Char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool DecodeHex(std::string_view text, std::string* out) {
  if (text.size() % 2 != 0) return false;
  for (size_t i = 0; i < text.size(); i += 2) {
    int v = 0;
    for (char c : text.substr(i, 2)) {
      const int d = std::isdigit(static_cast<unsigned char>(c))
                        ? c - '0'
                        : (std::tolower(static_cast<unsigned char>(c)) >= 'a' &&
                                   std::tolower(static_cast<unsigned char>(c)) <= 'f'
                               ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                               : -1);
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

bool DecodeBase64(std::string_view text, std::string* out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int d = DecodeBase64Char(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace

void AeadSealPartsTo(std::string_view key, std::string_view nonce,
                     std::initializer_list<std::string_view> plaintext, std::string_view aad,
                     std::string* out) {
  if (key.size() != kAeadKeySize) Abort("AeadSeal: the key must be 32 bytes");
  if (nonce.size() != kAeadNonceSize) Abort("AeadSeal: the nonce must be 12 bytes");
  size_t plain_size = 0;
  for (std::string_view part : plaintext) plain_size += part.size();
  const size_t start = out->size();
  out->resize(start + kAeadOverhead + plain_size);
  auto* p = reinterpret_cast<unsigned char*>(out->data() + start);
  p[0] = kAeadVersion;
  std::copy(nonce.begin(), nonce.end(), p + 1);
  unsigned char* ct = p + 1 + kAeadNonceSize;
  ThreadCipher& cipher = Sealer();
  EVP_CIPHER_CTX* ctx = cipher.get();
  int len = 0;
  size_t done = 0;
  bool ok = cipher.Init(/*encrypt=*/true, key, nonce) &&
            (aad.empty() ||
             EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1);
  for (std::string_view part : plaintext) {
    if (!ok || part.empty()) continue;
    ok = EVP_EncryptUpdate(ctx, ct + done, &len, U(part), static_cast<int>(part.size())) == 1;
    done += static_cast<size_t>(len);
  }
  int fin = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, ct + done, &fin) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kAeadTagSize, ct + plain_size) == 1;
  if (!ok || done + static_cast<size_t>(fin) != plain_size) Abort("AES-256-GCM seal failed");
}

void AeadSealTo(std::string_view key, std::string_view plaintext, std::string_view aad,
                std::string* out) {
  const std::string nonce = RandomBytes(kAeadNonceSize);
  AeadSealPartsTo(key, nonce, {plaintext}, aad, out);
}

std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  std::string out;
  AeadSealTo(key, plaintext, aad, &out);
  return out;
}

Result<std::string> AeadOpen(std::string_view key, std::string_view envelope,
                             std::string_view aad) {
  if (key.size() != kAeadKeySize) return Status::InvalidArgument("the key must be 32 bytes");
  if (envelope.size() < kAeadOverhead) return Status::DataLoss("ciphertext too short");
  if (static_cast<unsigned char>(envelope[0]) != kAeadVersion)
    return Status::DataLoss("unknown ciphertext version " +
                            std::to_string(static_cast<unsigned char>(envelope[0])));
  const std::string_view nonce = envelope.substr(1, kAeadNonceSize);
  const std::string_view body =
      envelope.substr(1 + kAeadNonceSize, envelope.size() - kAeadOverhead);
  std::string tag(envelope.substr(envelope.size() - kAeadTagSize));
  std::string out(body.size(), '\0');
  ThreadCipher& cipher = Opener();
  EVP_CIPHER_CTX* ctx = cipher.get();
  int len = 0, fin = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const bool ok = cipher.Init(/*encrypt=*/false, key, nonce) &&
                  (aad.empty() || EVP_DecryptUpdate(ctx, nullptr, &len, U(aad),
                                                    static_cast<int>(aad.size())) == 1) &&
                  EVP_DecryptUpdate(ctx, o, &len, U(body), static_cast<int>(body.size())) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(ctx, o + len, &fin) == 1;
  if (!ok) {
    Wipe(&out);
    return Status::DataLoss(
        "authentication failed: the ciphertext, its associated data or the "
        "key is not the one sealed");
  }
  return out;
}

namespace {

// One HMAC context per thread, keyed with the last key it saw. OpenSSL's one-shot HMAC()
// fetches the algorithm, allocates a context and hashes the key pads on every call; the
// store calls HMAC once per write and once per hashed index value, nearly always with the
// same index key. Re-initialising with a null key restarts from the cached pads. The cached
// key copy is wiped when the thread ends.
class ThreadHmac {
 public:
  ThreadHmac() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ctx_ = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  }
  ~ThreadHmac() {
    EVP_MAC_CTX_free(ctx_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }
  ThreadHmac(const ThreadHmac&) = delete;
  ThreadHmac& operator=(const ThreadHmac&) = delete;

  std::string Mac(std::string_view key, std::initializer_list<std::string_view> parts) {
    if (ctx_ == nullptr) Abort("HMAC-SHA-256 is unavailable");
    bool ok;
    if (keyed_ && key == key_) {
      ok = EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;
    } else {
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                   OSSL_PARAM_construct_end()};
      OPENSSL_cleanse(key_.data(), key_.size());
      key_.assign(key);
      ok = EVP_MAC_init(ctx_, U(key), key.size(), params) == 1;
      keyed_ = ok;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t len = 0;
    for (std::string_view data : parts) ok = ok && EVP_MAC_update(ctx_, U(data), data.size()) == 1;
    ok = ok && EVP_MAC_final(ctx_, md, &len, sizeof(md)) == 1;
    if (!ok) Abort("HMAC-SHA-256 failed");
    return std::string(reinterpret_cast<const char*>(md), len);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
  bool keyed_ = false;
};

ThreadHmac& Hmac() {
  thread_local ThreadHmac hmac;
  return hmac;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  return Hmac().Mac(key, {data});
}

std::string HmacSha256Of(std::string_view key, std::initializer_list<std::string_view> parts) {
  return Hmac().Mac(key, parts);
}

Result<std::string> ParseKeyText(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  std::string key;
  if (text.size() == 2 * kAeadKeySize && DecodeHex(text, &key)) return key;
  key.clear();
  if (DecodeBase64(text, &key) && key.size() == kAeadKeySize) return key;
  Wipe(&key);
  return Status::InvalidArgument(
      "a master key is 32 bytes written as 64 hex digits or as base64 (44 characters)");
}

std::string ToBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

}  // namespace medhub
