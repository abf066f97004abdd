// medhub's access tokens as JSON Web Tokens (RFC 7519) signed with EdDSA/Ed25519 (RFC 8037).
//
// A token is base64url(header) "." base64url(payload) "." base64url(signature), without
// padding, where
//   header   {"alg":"EdDSA","typ":"JWT","kid":"<RFC 7638 thumbprint of the public key>"}
//   payload  {"iss","sub","aud","exp","iat","nbf","jti","role","scope"} always, and
//            "org", "patient", "device", "client_id", "sid" when set
// and the signature is Ed25519 over the ASCII of the first two parts (RFC 7515 §5.1).
// docs/security.md ("Token format") describes every claim.
//
// JwtCodec only encodes and checks the cryptographic envelope; expiry, audience, issuer
// and revocation are TokenService's (token.h). Decoding is strict and fails closed: a
// token over kMaxTokenBytes, not three non-empty base64url parts, a header or payload that
// is not a JSON object or repeats a member, an "alg" other than EdDSA (so also "none"), a
// "typ" other than JWT, an unknown "kid", any other header member (crit, jku, jwk, x5u,
// ...), a signature that is not 64 bytes or does not verify, or a claim of the wrong type
// is Unauthenticated with a message naming the reason.
//
// Thread-safe: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ed25519.h"
#include "core/status.h"
#include "security/role.h"

namespace medhub::security {

inline constexpr size_t kMaxTokenBytes = 8192;

// The claims medhub puts in an access token. Times are seconds since the epoch.
struct Claims {
  std::string issuer;      // iss
  std::string subject;     // sub: the username, or the client id for client credentials
  std::string audience;    // aud
  int64_t expires_at = 0;  // exp
  int64_t issued_at = 0;   // iat
  int64_t not_before = 0;  // nbf
  std::string token_id;    // jti: random, unique per token; what revocation names
  Role role = Role::kPatient;
  std::string organization;  // org: Organization id, or ""
  std::string patient;       // patient: Patient id, or ""
  std::string device;        // device: Device id, or ""
  std::string client_id;     // client_id: set for the client-credentials grant
  std::string session;       // sid: the login session (its refresh tokens), or ""
  std::string scope;         // space-separated scopes (scope.h)

  friend bool operator==(const Claims&, const Claims&) = default;
};

// The RFC 7638 JWK thumbprint of an Ed25519 public key (RFC 8037 §A.3): base64url of the
// SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"<base64url of the key>"}.
std::string KeyId(const PublicKey& key);

class JwtCodec {
 public:
  explicit JwtCodec(PrivateKey key);

  // The signed token. Internal only if signing fails.
  Result<std::string> Encode(const Claims& claims) const;
  // Checks the envelope and signature and returns the claims; see the file comment.
  Result<Claims> Decode(std::string_view token) const;

  const std::string& key_id() const { return key_id_; }
  const PublicKey& public_key() const { return key_.public_key(); }

 private:
  PrivateKey key_;
  std::string key_id_;
  std::string public_raw_;  // the 32-byte public key
};

}  // namespace medhub::security
