// A `medhub serve` for the access-control tests: a temporary data directory holding
// tests/data/access_fixture.ndjson and one OAuth client per principal of
// tests/data/access_matrix.tsv, the server on a free port, and their access tokens.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "support/http_client.h"
#include "support/process.h"

namespace medhub::testing {

class SecureServer {
 public:
  // `binary` is the medhub executable, `fixture` the NDJSON to import first.
  SecureServer(std::string binary, std::string fixture);
  ~SecureServer();  // stops the server, removes the directory

  // Imports, registers the clients, starts the server and gets a token for every
  // principal. Returns "" on success, else what went wrong.
  std::string Start();

  uint16_t port() const { return port_; }
  std::string data_dir() const { return (dir_ / "data").string(); }
  // The access token of a principal ("" when unknown), and its client secret.
  std::string Token(const std::string& principal) const;
  std::string Secret(const std::string& principal) const;
  // A fresh client connected to the server, sending `principal`'s token ("" for none).
  std::unique_ptr<HttpClient> Client(const std::string& principal = "") const;

 private:
  std::string binary_;
  std::string fixture_;
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> server_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> secrets_, tokens_;
};

}  // namespace medhub::testing
