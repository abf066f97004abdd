// Access and refresh tokens: issue, verify, refresh (with rotation) and revoke.
//
// Access tokens are short-lived JWTs (jwt.h), 15 minutes by default; verifying one checks
// the envelope and signature (JwtCodec), then issuer, audience, expiry and not-before,
// then revocation: a revoked token id ("jti") or a revoked session ("sid"). Refresh tokens
// are opaque: 32 random bytes in base64url. Only their SHA-256 is stored, so a copy of the
// store does not hold usable refresh tokens. Each refresh token is good for one use:
// Refresh() marks it used and issues a new pair in one atomic write (rotation). Presenting a
// used refresh token again means it was copied, so the whole session is revoked (RFC 9700
// §4.14.2): all of its refresh tokens and every access token carrying its "sid".
//
// Records (store::Store::PutRecords; docs/security.md, "Records"):
//   security/refresh/<hex SHA-256 of the token>  {"sub","scope","sid","client_id","iat",
//                                                 "exp","session_exp","used"}
//   security/revoked/jti/<jti>                   {"exp"}  until the token would expire
//   security/revoked/sid/<sid>                   {"exp"}  until its last token would expire
// PruneExpired() deletes the records whose "exp" has passed.
//
// Times given to and kept by this class are microseconds since the epoch, except inside
// tokens (JWT NumericDate: seconds). Thread-safe: any number of concurrent calls; refresh
// rotation is serialized so that one refresh token cannot be used twice concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "security/jwt.h"
#include "security/role.h"
#include "security/scope.h"
#include "store/store.h"

namespace medhub::security {

struct TokenOptions {
  std::string issuer = "medhub";
  std::string audience = "medhub";
  int64_t access_token_seconds = 15 * 60;
  // A refresh token expires after this long unused, and never after its session ends.
  int64_t refresh_token_seconds = 24 * 3600;
  int64_t session_seconds = 30 * 24 * 3600;
  // Allowed clock difference when checking exp and nbf.
  int64_t leeway_seconds = 0;
};

// Who a verified access token speaks for.
struct Principal {
  std::string subject;  // username, or client id
  Role role = Role::kPatient;
  std::string organization;
  std::string patient;
  std::string device;
  std::string client_id;
  std::vector<Scope> scopes;
  std::string token_id;
  std::string session;
  int64_t expires_at = 0;  // seconds since the epoch
};

// What to put in new tokens.
struct Grant {
  std::string subject;
  Role role = Role::kPatient;
  std::string organization;
  std::string patient;
  std::string device;
  std::string client_id;
  std::vector<Scope> scopes;
};

struct IssuedTokens {
  std::string access_token;
  Claims claims;
  int64_t expires_in = 0;     // seconds
  std::string refresh_token;  // "" when none was issued
};

// A stored refresh token, as Refresh() shows it to its check.
struct RefreshRecord {
  std::string subject;
  std::string scope;
  std::string session;
  std::string client_id;
  int64_t issued_at = 0;   // micros
  int64_t expires_at = 0;  // micros
  int64_t session_expires_at = 0;
  bool used = false;
};

class TokenService {
 public:
  TokenService(store::Store* store, PrivateKey key, TokenOptions options);

  // An access token for `grant`, and with `with_refresh` a refresh token opening a new
  // session. Errors: Unavailable/Internal from the store or signer.
  Result<IssuedTokens> Issue(const Grant& grant, bool with_refresh, int64_t now);

  // The principal of a valid access token. Errors: Unauthenticated with the reason
  // ("invalid token: ...", "token expired", "token revoked", ...); Unavailable when the
  // revocation records cannot be read.
  // The envelope and signature checks of a token are remembered (keyed by the token's
  // exact bytes, at most kVerifiedCacheSize tokens): a token presented again skips only the
  // Ed25519 verification; issuer, audience, expiry, scope and revocation are checked on
  // every call. A token that differs in any byte is verified from scratch.
  Result<Principal> Verify(std::string_view access_token, int64_t now) const;

  // Given a refresh token, calls `check` with its record; `check` returns the grant for the
  // new tokens (it re-reads the account and narrows the scopes) or an error, which
  // Refresh() returns without using up the token. On success the token is marked used and a
  // new pair is issued in the same session. Errors: Unauthenticated when the token is
  // unknown, expired or already used (the last also revokes the session).
  using RefreshCheck = std::function<Result<Grant>(const RefreshRecord&)>;
  Result<IssuedTokens> Refresh(std::string_view refresh_token, int64_t now,
                               const RefreshCheck& check);

  // Revokes an access token of this issuer by its jti (signature checked, expiry not). A
  // token that is not one of ours is ignored (RFC 7009 §2.2). Errors: store failures.
  Status RevokeAccessToken(std::string_view access_token, int64_t now);
  // Revokes a refresh token's whole session. Unknown tokens are ignored.
  Status RevokeRefreshToken(std::string_view refresh_token, int64_t now);
  // Revokes every refresh and access token of a session.
  Status RevokeSession(std::string_view session, int64_t now);

  // Deletes expired refresh and revocation records; returns how many.
  Result<size_t> PruneExpired(int64_t now);

  const TokenOptions& options() const { return options_; }
  const JwtCodec& codec() const { return codec_; }

 private:
  using Writes = std::vector<std::pair<std::string, std::optional<std::string>>>;
  // Signs an access token and, when `session` is set, adds a refresh token to `writes`.
  Result<IssuedTokens> IssueLocked(const Grant& grant, std::string session,
                                   int64_t session_expires_at, int64_t now, Writes* writes);

  Status RevokeSessionLocked(std::string_view session, int64_t now);

  // The decoded claims of `access_token`, from the cache or from JwtCodec::Decode.
  Result<Claims> Decode(std::string_view access_token) const;

  store::Store* store_;
  JwtCodec codec_;
  static constexpr size_t kVerifiedCacheSize = 65536;
  mutable std::mutex verified_mu_;
  mutable std::unordered_map<std::string, Claims> verified_;  // GUARDED_BY(verified_mu_)
  TokenOptions options_;
  std::mutex refresh_mu_;  // serializes Refresh() and session revocation
};

}  // namespace medhub::security
