// The OAuth 2.0 token service at /auth, independent of the transport (like FhirApi), and
// the bearer-token check that the FHIR API calls on every request.
//
// Endpoints (docs/security.md):
//   POST /auth/token   RFC 6749 token endpoint, application/x-www-form-urlencoded:
//     grant_type=password            username, password, [scope]  -> access + refresh token
//     grant_type=client_credentials  client_id + client_secret in the body or HTTP Basic,
//                                    [scope]                      -> access token
//     grant_type=refresh_token       refresh_token, [scope]       -> new access + refresh
//                                    token (the old refresh token is used up)
//     200 {"access_token","token_type":"Bearer","expires_in","scope",["refresh_token"],
//          ["patient"]} (RFC 6749 §5.1); errors per §5.2: 400 invalid_request,
//     invalid_grant, unsupported_grant_type, invalid_scope; 401 invalid_client.
//   POST /auth/revoke  RFC 7009: token, [token_type_hint] -> 200 whether or not the token
//                      was valid; revoking a refresh token ends its whole session.
// Every response carries Cache-Control: no-store. Parameters must be in the body (never
// the query string) and appear once; bodies over max_body_bytes get 413, other media types
// 415. The password and refresh grants are for medhub's own apps (public clients): they
// take no client secret. A missing scope means everything the role (or client) may hold.
//
// Thread-safe: requests may be handled concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "security/accounts.h"
#include "security/clients.h"
#include "security/token.h"
#include "server/http_server.h"
#include "store/store.h"

namespace medhub::server {

struct AuthApiOptions {
  // The data directory: the signing key is DATA/security/token.key (created on first use).
  std::string data_dir;
  security::TokenOptions tokens;       // issuer, audience, lifetimes
  security::AccountsOptions accounts;  // password parameters, lock-out
  size_t max_body_bytes = 16u << 10;
  // Microseconds since the epoch; NowMicros when empty. Tests inject their own.
  std::function<int64_t()> clock;
};

class AuthApi {
 public:
  // Loads (or creates) the signing key and builds the API. Errors: those of
  // security::LoadOrCreateSigningKey.
  static Result<std::unique_ptr<AuthApi>> Open(store::Store* store, AuthApiOptions options);

  AuthApi(store::Store* store, PrivateKey signing_key, AuthApiOptions options);

  // Handles a request whose path starts with "/auth".
  HttpResponse Handle(const HttpRequest& request);

  // The principal of the request's "Authorization: Bearer <token>" header. Errors:
  // Unauthenticated when the header is missing, repeated, over 8 KiB, not Bearer, not a
  // token (RFC 6750 §2.1 b64token), or the token does not verify (TokenService::Verify).
  Result<security::Principal> Authenticate(const HttpRequest& request) const;

  security::Accounts& accounts() { return accounts_; }
  security::Clients& clients() { return clients_; }
  security::TokenService& tokens() { return tokens_; }

 private:
  int64_t Now() const;
  HttpResponse Token(const HttpRequest& request);
  HttpResponse Revoke(const HttpRequest& request);
  void MaybePrune(int64_t now);

  AuthApiOptions options_;
  security::Accounts accounts_;
  security::Clients clients_;
  security::TokenService tokens_;
  std::atomic<int64_t> next_prune_{0};
};

// The value of a WWW-Authenticate header for a request that Authenticate() refused
// (RFC 6750 §3): Bearer realm="medhub", plus error="invalid_token" and its description when
// a token was presented.
std::string BearerChallenge(const Status& status);

}  // namespace medhub::server
