#include "core/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace medhub {
namespace {

// The digest is fetched once per process and a context is reused per thread: for the short
// inputs of Merkle nodes this is about three times faster than EVP_Digest().
const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

class ThreadDigest {
 public:
  ThreadDigest() : ctx_(EVP_MD_CTX_new()) {}
  ~ThreadDigest() { EVP_MD_CTX_free(ctx_); }
  ThreadDigest(const ThreadDigest&) = delete;
  ThreadDigest& operator=(const ThreadDigest&) = delete;

  // OpenSSL failing to hash is an environment bug, not an input error: abort.
  Sha256Digest Digest(std::initializer_list<std::string_view> parts) {
    Sha256Digest out{};
    unsigned int len = 0;
    const EVP_MD* md = FetchedSha256();
    bool ok = ctx_ != nullptr && md != nullptr && EVP_DigestInit_ex2(ctx_, md, nullptr) == 1;
    for (std::string_view p : parts) ok = ok && EVP_DigestUpdate(ctx_, p.data(), p.size()) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1 && len == out.size();
    if (!ok) {
      std::fputs("medhub: OpenSSL SHA-256 failed\n", stderr);
      std::abort();
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

ThreadDigest& Digest() {
  thread_local ThreadDigest digest;
  return digest;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) { return Digest().Digest({data}); }

Sha256Digest Sha256Of(std::initializer_list<std::string_view> parts) {
  return Digest().Digest(parts);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "medhub: the random number generator failed\n");
    std::abort();
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace medhub
