#include "security/jwt.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/hash.h"
#include "core/json.h"
#include "security/base64.h"

namespace medhub::security {
namespace {

Status Reject(std::string why) {
  return Status::Unauthenticated("invalid token: " + std::move(why));
}

std::string_view AsBytes(const Sha256Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// Parses a base64url JSON object, naming `part` in errors.
Result<json::Value> DecodeObject(std::string_view encoded, std::string_view part) {
  auto bytes = Base64UrlDecode(encoded);
  if (!bytes.ok())
    return Reject(std::string(part) + " is not base64url (" + bytes.status().message() + ")");
  json::ParseOptions options;
  options.reject_duplicate_keys = true;
  options.max_depth = 8;
  auto value = json::Parse(*bytes, options);
  if (!value.ok())
    return Reject(std::string(part) + " is not JSON (" + value.status().message() + ")");
  if (!value->is_object()) return Reject(std::string(part) + " is not a JSON object");
  return std::move(value).value();
}

Status CheckHeader(const json::Value& header, std::string_view key_id) {
  for (const auto& [name, value] : header.members()) {
    if (name != "alg" && name != "typ" && name != "kid")
      return Reject("header member '" + name.substr(0, 40) + "' is not accepted");
    if (!value.is_string()) return Reject("header member '" + name + "' is not a string");
  }
  const json::Value* alg = header.find("alg");
  if (alg == nullptr) return Reject("header has no alg");
  if (alg->text() != "EdDSA")
    return Reject("algorithm '" + alg->text().substr(0, 40) + "' is not accepted (only EdDSA)");
  const json::Value* typ = header.find("typ");
  if (typ != nullptr && typ->text() != "JWT") return Reject("typ is not JWT");
  const json::Value* kid = header.find("kid");
  if (kid == nullptr) return Reject("header has no kid");
  if (kid->text() != key_id) return Reject("unknown key id '" + kid->text().substr(0, 64) + "'");
  return Status::Ok();
}

// Reads the claims of a verified payload, checking each claim's type.
class ClaimReader {
 public:
  explicit ClaimReader(const json::Value& payload) : payload_(payload) {}

  void String(std::string_view name, bool required, std::string* out) {
    const json::Value* v = payload_.find(name);
    if (v == nullptr) {
      if (required) Fail("claim '" + std::string(name) + "' is missing");
      return;
    }
    if (!v->is_string() || (required && v->text().empty()))
      return Fail("claim '" + std::string(name) + "' is not a non-empty string");
    *out = v->text();
  }
  void Time(std::string_view name, int64_t* out) {
    const json::Value* v = payload_.find(name);
    if (v == nullptr) return Fail("claim '" + std::string(name) + "' is missing");
    const std::optional<int64_t> i = v->as_int();
    if (!i || *i < 0) return Fail("claim '" + std::string(name) + "' is not a NumericDate");
    *out = *i;
  }
  const Status& status() const { return status_; }

 private:
  void Fail(std::string why) {
    if (status_.ok()) status_ = Reject(std::move(why));
  }
  const json::Value& payload_;
  Status status_;
};

Result<Claims> ClaimsFrom(const json::Value& payload) {
  Claims c;
  std::string role;
  ClaimReader r(payload);
  r.String("iss", true, &c.issuer);
  r.String("sub", true, &c.subject);
  r.String("aud", true, &c.audience);
  r.Time("exp", &c.expires_at);
  r.Time("iat", &c.issued_at);
  r.Time("nbf", &c.not_before);
  r.String("jti", true, &c.token_id);
  r.String("role", true, &role);
  r.String("org", false, &c.organization);
  r.String("patient", false, &c.patient);
  r.String("device", false, &c.device);
  r.String("client_id", false, &c.client_id);
  r.String("sid", false, &c.session);
  r.String("scope", false, &c.scope);
  if (payload.find("scope") == nullptr) return Reject("claim 'scope' is missing");
  RETURN_IF_ERROR(r.status());
  auto parsed = ParseRole(role);
  if (!parsed.ok()) return Reject("claim 'role' names no role");
  c.role = *parsed;
  return c;
}

json::Value PayloadOf(const Claims& c) {
  json::Value p = json::Value::Object();
  p.set("iss", json::Value::String(c.issuer));
  p.set("sub", json::Value::String(c.subject));
  p.set("aud", json::Value::String(c.audience));
  p.set("exp", json::Value::Int(c.expires_at));
  p.set("iat", json::Value::Int(c.issued_at));
  p.set("nbf", json::Value::Int(c.not_before));
  p.set("jti", json::Value::String(c.token_id));
  p.set("role", json::Value::String(std::string(RoleName(c.role))));
  const std::pair<const char*, const std::string*> optional[] = {{"org", &c.organization},
                                                                 {"patient", &c.patient},
                                                                 {"device", &c.device},
                                                                 {"client_id", &c.client_id},
                                                                 {"sid", &c.session}};
  for (const auto& [name, value] : optional) {
    if (!value->empty()) p.set(name, json::Value::String(*value));
  }
  p.set("scope", json::Value::String(c.scope));
  return p;
}

}  // namespace

std::string KeyId(const PublicKey& key) {
  // Members in lexicographic order, no whitespace (RFC 7638 §3).
  const std::string jwk =
      R"({"crv":"Ed25519","kty":"OKP","x":")" + Base64UrlEncode(key.Raw()) + R"("})";
  return Base64UrlEncode(AsBytes(Sha256(jwk)));
}

JwtCodec::JwtCodec(PrivateKey key)
    : key_(std::move(key)),
      key_id_(KeyId(key_.public_key())),
      public_raw_(key_.public_key().Raw()) {
  if (sodium_init() < 0) std::abort();  // idempotent; fails only without entropy
}

Result<std::string> JwtCodec::Encode(const Claims& claims) const {
  json::Value header = json::Value::Object();
  header.set("alg", json::Value::String("EdDSA"));
  header.set("typ", json::Value::String("JWT"));
  header.set("kid", json::Value::String(key_id_));
  std::string token = Base64UrlEncode(json::Serialize(header)) + "." +
                      Base64UrlEncode(json::Serialize(PayloadOf(claims)));
  ASSIGN_OR_RETURN(Signature sig, key_.Sign(token));
  token += "." + Base64UrlEncode(SignatureBytes(sig));
  return token;
}

Result<Claims> JwtCodec::Decode(std::string_view token) const {
  if (token.size() > kMaxTokenBytes)
    return Reject("longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return Reject("not three dot-separated parts");
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);
  if (header_part.empty() || payload_part.empty() || signature_part.empty())
    return Reject("a part is empty");

  ASSIGN_OR_RETURN(json::Value header, DecodeObject(header_part, "header"));
  RETURN_IF_ERROR(CheckHeader(header, key_id_));
  auto signature = Base64UrlDecode(signature_part);
  if (!signature.ok()) return Reject("signature is not base64url");
  if (signature->size() != kEd25519SignatureSize) return Reject("signature is not 64 bytes");
  // libsodium's verification (strict: canonical signatures, no small-order keys) costs a
  // quarter of an OpenSSL EVP_DigestVerify with its per-call context set-up.
  const std::string_view signed_part = token.substr(0, dot2);
  if (crypto_sign_ed25519_verify_detached(
          reinterpret_cast<const unsigned char*>(signature->data()),
          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(),
          reinterpret_cast<const unsigned char*>(public_raw_.data())) != 0)
    return Reject("signature does not verify");
  // Only now, with the signature checked, is the payload read.
  ASSIGN_OR_RETURN(json::Value payload, DecodeObject(payload_part, "payload"));
  return ClaimsFrom(payload);
}

}  // namespace medhub::security
