#include "server/self_signed.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace medhub::server {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

Status OpenSslError(const std::string& what) {
  std::string msg = "cannot generate a self-signed certificate: " + what;
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return Status::Internal(msg);
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result<std::string> ToPem(bool key, void* object) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("BIO_new");
  const int ok = key ? PEM_write_bio_PrivateKey(bio.get(), static_cast<EVP_PKEY*>(object), nullptr,
                                                nullptr, 0, nullptr, nullptr)
                     : PEM_write_bio_X509(bio.get(), static_cast<X509*>(object));
  if (ok != 1) return OpenSslError("PEM encoding");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Status WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
  Status s = Status::Ok();
  if (::fchmod(fd, mode) != 0)
    s = Status::Unavailable("cannot chmod " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (s.ok() && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      s = Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
    else
      done += static_cast<size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0)
    s = Status::Unavailable("cannot sync " + path + ": " + std::strerror(errno));
  ::close(fd);
  return s;
}

}  // namespace

Result<PemPair> GenerateSelfSigned(const SelfSignedOptions& options) {
  Ptr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("EC P-256 key generation");
  Ptr<X509> cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslError("X509_set_version");

  // A random positive 127-bit serial number.
  Ptr<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslError("serial number");
  }
  // Valid from a minute ago (clock skew) for valid_days.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * options.valid_days)) {
    return OpenSslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return OpenSslError("subject name");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return OpenSslError("X509_set_pubkey");

  std::string san;
  for (const auto& d : options.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : options.ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  // The certificate is its own trust anchor (curl --cacert): CA:TRUE with pathlen 0 lets
  // verifiers accept it as such, and it can sign nothing else below it.
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      (!san.empty() && !AddExtension(cert.get(), NID_subject_alt_name, san))) {
    return OpenSslError("extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return OpenSslError("X509_sign");

  PemPair out;
  ASSIGN_OR_RETURN(out.certificate, ToPem(false, cert.get()));
  ASSIGN_OR_RETURN(out.private_key, ToPem(true, key.get()));
  return out;
}

Status WriteSelfSigned(const std::string& cert_path, const std::string& key_path,
                       const SelfSignedOptions& options) {
  ASSIGN_OR_RETURN(PemPair pair, GenerateSelfSigned(options));
  for (const std::string& p : {cert_path, key_path}) {
    const auto parent = std::filesystem::path(p).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Unavailable("cannot create " + parent.string() + ": " + ec.message());
  }
  RETURN_IF_ERROR(WriteFile(key_path, pair.private_key, 0600));
  return WriteFile(cert_path, pair.certificate, 0644);
}

}  // namespace medhub::server
