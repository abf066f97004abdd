// Generates a self-signed TLS certificate and its private key (EC P-256, SHA-256) for
// local use: `medhub demo` and tests. OpenSSL types stay in self_signed.cc.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::server {

struct SelfSignedOptions {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1"};
  int valid_days = 365;
};

struct PemPair {
  std::string certificate;  // PEM "CERTIFICATE"
  std::string private_key;  // PEM "PRIVATE KEY" (PKCS#8, unencrypted)
};

// A fresh key pair and a certificate for it, signed by itself.
Result<PemPair> GenerateSelfSigned(const SelfSignedOptions& options = {});

// Generates a pair and writes the certificate to `cert_path` (mode 0644) and the key to
// `key_path` (mode 0600), replacing existing files. Creates missing parent directories.
Status WriteSelfSigned(const std::string& cert_path, const std::string& key_path,
                       const SelfSignedOptions& options = {});

}  // namespace medhub::server
