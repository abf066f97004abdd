// A read-everything token for end-to-end tests, so that they keep working once `serve`
// requires a bearer token on /fhir: a `service` OAuth client is added to the data
// directory before serve starts, and its client-credentials token is fetched afterwards.
#pragma once

#include <string>

#include "support/http_client.h"

namespace medhub::testing {

// Runs `medhub client add` (role service, scope system/*.read, org "e2e") on `data`;
// returns the client secret, or "" on failure.
std::string AddServiceClient(const std::string& binary, const std::string& data,
                             const std::string& client_id = "e2e-reader");

// POST /auth/token (client_credentials); the access token, or "" on failure.
std::string FetchToken(HttpClient* client, const std::string& client_id, const std::string& secret);

}  // namespace medhub::testing
