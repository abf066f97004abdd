// Tokens for end-to-end tests: `medhub serve` requires a bearer token on /fhir, so a test
// registers an OAuth client in the data directory before starting the server (the CLI
// needs the store while no server holds it) and then asks /auth/token for a token.
#pragma once

#include <string>
#include <vector>

#include "support/http_client.h"

namespace medhub::testing {

// Runs `medhub client add --data DIR --client-id ID --role ROLE --scope SCOPE EXTRA...` and
// returns the secret it prints ("" on failure).
std::string AddClient(const std::string& binary, const std::string& data_dir,
                      const std::string& client_id, const std::string& role,
                      const std::string& scope, const std::vector<std::string>& extra = {});

// A client-credentials access token ("" on failure).
std::string ClientToken(HttpClient& client, const std::string& client_id, const std::string& secret,
                        const std::string& scope = "");

// A service client with every system scope, registered as "e2e-service": what a test that
// exercises the FHIR API as a whole uses. Returns its secret.
inline std::string AddServiceClient(const std::string& binary, const std::string& data_dir) {
  return AddClient(binary, data_dir, "e2e-service", "service", "system/*.*", {"--org", "e2e-org"});
}

}  // namespace medhub::testing
