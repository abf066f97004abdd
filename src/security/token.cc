#include "security/token.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/hash.h"
#include "core/json.h"
#include "security/base64.h"

namespace medhub::security {
namespace {

constexpr int64_t kMicros = 1'000'000;
constexpr char kRefreshPrefix[] = "security/refresh/";
constexpr char kRevokedPrefix[] = "security/revoked/";
constexpr char kRevokedJtiPrefix[] = "security/revoked/jti/";
constexpr char kRevokedSidPrefix[] = "security/revoked/sid/";
constexpr size_t kRefreshTokenBytes = 32;
constexpr size_t kRefreshTokenChars = 43;  // base64url of 32 bytes

std::string RandomId(size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

std::string RefreshKey(std::string_view token) { return kRefreshPrefix + ToHex(Sha256(token)); }

std::string ExpiryRecord(int64_t expires_at) {
  json::Value v = json::Value::Object();
  v.set("exp", json::Value::Int(expires_at));
  return json::Serialize(v);
}

std::string SerializeRefresh(const RefreshRecord& r) {
  json::Value v = json::Value::Object();
  v.set("sub", json::Value::String(r.subject));
  v.set("scope", json::Value::String(r.scope));
  v.set("sid", json::Value::String(r.session));
  v.set("client_id", json::Value::String(r.client_id));
  v.set("iat", json::Value::Int(r.issued_at));
  v.set("exp", json::Value::Int(r.expires_at));
  v.set("session_exp", json::Value::Int(r.session_expires_at));
  v.set("used", json::Value::Bool(r.used));
  return json::Serialize(v);
}

Result<RefreshRecord> ParseRefresh(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return Status::DataLoss("refresh token record is not JSON");
  RefreshRecord r;
  r.subject = std::string(v->get_string("sub"));
  r.scope = std::string(v->get_string("scope"));
  r.session = std::string(v->get_string("sid"));
  r.client_id = std::string(v->get_string("client_id"));
  const json::Value* used = v->find("used");
  r.used = used != nullptr && used->is_bool() && used->as_bool();
  for (auto [name, out] : {std::pair{"iat", &r.issued_at}, std::pair{"exp", &r.expires_at},
                           std::pair{"session_exp", &r.session_expires_at}}) {
    const json::Value* t = v->find(name);
    if (t == nullptr || !t->as_int())
      return Status::DataLoss("refresh token record lacks " + std::string(name));
    *out = *t->as_int();
  }
  if (r.subject.empty() || r.session.empty())
    return Status::DataLoss("refresh token record lacks sub or sid");
  return r;
}

// The "exp" of an expiry or refresh record, or nullopt when unreadable.
std::optional<int64_t> ExpiryOf(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return std::nullopt;
  const json::Value* exp = v->find("exp");
  return exp == nullptr ? std::nullopt : exp->as_int();
}

Status Unauthenticated(std::string why) { return Status::Unauthenticated(std::move(why)); }

}  // namespace

TokenService::TokenService(store::Store* store, PrivateKey key, TokenOptions options)
    : store_(store), codec_(std::move(key)), options_(std::move(options)) {}

Result<IssuedTokens> TokenService::IssueLocked(const Grant& grant, std::string session,
                                               int64_t session_expires_at, int64_t now,
                                               Writes* writes) {
  IssuedTokens out;
  Claims& c = out.claims;
  c.issuer = options_.issuer;
  c.subject = grant.subject;
  c.audience = options_.audience;
  c.issued_at = now / kMicros;
  c.not_before = c.issued_at;
  c.expires_at = c.issued_at + options_.access_token_seconds;
  c.token_id = RandomId(16);
  c.role = grant.role;
  c.organization = grant.organization;
  c.patient = grant.patient;
  c.device = grant.device;
  c.client_id = grant.client_id;
  c.session = session;
  c.scope = FormatScopes(grant.scopes);
  ASSIGN_OR_RETURN(out.access_token, codec_.Encode(c));
  out.expires_in = options_.access_token_seconds;
  if (session.empty()) return out;

  out.refresh_token = RandomId(kRefreshTokenBytes);
  RefreshRecord r;
  r.subject = grant.subject;
  r.scope = c.scope;
  r.session = std::move(session);
  r.client_id = grant.client_id;
  r.issued_at = now;
  r.expires_at = std::min(now + options_.refresh_token_seconds * kMicros, session_expires_at);
  r.session_expires_at = session_expires_at;
  writes->emplace_back(RefreshKey(out.refresh_token), SerializeRefresh(r));
  return out;
}

Result<IssuedTokens> TokenService::Issue(const Grant& grant, bool with_refresh, int64_t now) {
  Writes writes;
  const int64_t session_expires_at = now + options_.session_seconds * kMicros;
  ASSIGN_OR_RETURN(IssuedTokens out, IssueLocked(grant, with_refresh ? RandomId(16) : std::string(),
                                                 session_expires_at, now, &writes));
  if (!writes.empty()) RETURN_IF_ERROR(store_->PutRecords(writes));
  return out;
}

Result<Claims> TokenService::Decode(std::string_view access_token) const {
  {
    std::lock_guard lock(verified_mu_);
    auto it = verified_.find(std::string(access_token));
    if (it != verified_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(Claims c, codec_.Decode(access_token));
  std::lock_guard lock(verified_mu_);
  if (verified_.size() >= kVerifiedCacheSize) verified_.clear();
  verified_.emplace(std::string(access_token), c);
  return c;
}

Result<Principal> TokenService::Verify(std::string_view access_token, int64_t now) const {
  ASSIGN_OR_RETURN(Claims c, Decode(access_token));
  if (c.issuer != options_.issuer)
    return Unauthenticated("invalid token: issuer '" + c.issuer.substr(0, 64) +
                           "' is not this server");
  if (c.audience != options_.audience)
    return Unauthenticated("invalid token: audience '" + c.audience.substr(0, 64) + "' is not '" +
                           options_.audience + "'");
  const int64_t now_s = now / kMicros;
  if (now_s >= c.expires_at + options_.leeway_seconds) return Unauthenticated("token expired");
  if (now_s + options_.leeway_seconds < c.not_before) return Unauthenticated("token not yet valid");
  auto scopes = ParseScopes(c.scope);
  if (!scopes.ok()) return Unauthenticated("invalid token: claim 'scope' is malformed");
  ASSIGN_OR_RETURN(std::optional<std::string> revoked,
                   store_->GetRecord(kRevokedJtiPrefix + c.token_id));
  if (revoked) return Unauthenticated("token revoked");
  if (!c.session.empty()) {
    ASSIGN_OR_RETURN(revoked, store_->GetRecord(kRevokedSidPrefix + c.session));
    if (revoked) return Unauthenticated("token revoked (its session was ended)");
  }
  Principal p;
  p.subject = std::move(c.subject);
  p.role = c.role;
  p.organization = std::move(c.organization);
  p.patient = std::move(c.patient);
  p.device = std::move(c.device);
  p.client_id = std::move(c.client_id);
  p.scopes = std::move(scopes).value();
  p.token_id = std::move(c.token_id);
  p.session = std::move(c.session);
  p.expires_at = c.expires_at;
  return p;
}

Result<IssuedTokens> TokenService::Refresh(std::string_view refresh_token, int64_t now,
                                           const RefreshCheck& check) {
  if (refresh_token.size() != kRefreshTokenChars || !Base64UrlDecode(refresh_token).ok())
    return Unauthenticated("refresh token is malformed");
  const std::string key = RefreshKey(refresh_token);
  std::lock_guard<std::mutex> lock(refresh_mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->GetRecord(key));
  if (!stored) return Unauthenticated("refresh token is unknown or revoked");
  ASSIGN_OR_RETURN(RefreshRecord record, ParseRefresh(*stored));
  if (record.used) {
    RETURN_IF_ERROR(RevokeSessionLocked(record.session, now));
    return Unauthenticated("refresh token was already used; its session is revoked");
  }
  if (now >= record.expires_at) return Unauthenticated("refresh token expired");
  ASSIGN_OR_RETURN(Grant grant, check(record));
  Writes writes;
  ASSIGN_OR_RETURN(IssuedTokens out,
                   IssueLocked(grant, record.session, record.session_expires_at, now, &writes));
  record.used = true;
  writes.emplace_back(key, SerializeRefresh(record));
  RETURN_IF_ERROR(store_->PutRecords(writes));
  return out;
}

Status TokenService::RevokeAccessToken(std::string_view access_token, int64_t now) {
  auto claims = codec_.Decode(access_token);
  if (!claims.ok() || claims->issuer != options_.issuer) return Status::Ok();
  const int64_t expires_at = (claims->expires_at + options_.leeway_seconds) * kMicros;
  if (expires_at <= now) return Status::Ok();  // it is dead already
  return store_->PutRecords({{kRevokedJtiPrefix + claims->token_id, ExpiryRecord(expires_at)}});
}

Status TokenService::RevokeRefreshToken(std::string_view refresh_token, int64_t now) {
  if (refresh_token.size() != kRefreshTokenChars) return Status::Ok();
  std::lock_guard<std::mutex> lock(refresh_mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->GetRecord(RefreshKey(refresh_token)));
  if (!stored) return Status::Ok();
  ASSIGN_OR_RETURN(RefreshRecord record, ParseRefresh(*stored));
  return RevokeSessionLocked(record.session, now);
}

Status TokenService::RevokeSession(std::string_view session, int64_t now) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  return RevokeSessionLocked(session, now);
}

Status TokenService::RevokeSessionLocked(std::string_view session, int64_t now) {
  if (session.empty()) return Status::InvalidArgument("no session to revoke");
  ASSIGN_OR_RETURN(auto records, store_->ScanRecords(kRefreshPrefix));
  Writes writes;
  for (const auto& [key, value] : records) {
    auto r = ParseRefresh(value);
    if (r.ok() && r->session == session) writes.emplace_back(key, std::nullopt);
  }
  // Every access token of the session expires by now + its lifetime.
  const int64_t until = now + (options_.access_token_seconds + options_.leeway_seconds) * kMicros;
  writes.emplace_back(kRevokedSidPrefix + std::string(session), ExpiryRecord(until));
  return store_->PutRecords(writes);
}

Result<size_t> TokenService::PruneExpired(int64_t now) {
  Writes writes;
  for (const char* prefix : {kRefreshPrefix, kRevokedPrefix}) {
    ASSIGN_OR_RETURN(auto records, store_->ScanRecords(prefix));
    for (const auto& [key, value] : records) {
      const std::optional<int64_t> exp = ExpiryOf(value);
      if (exp && *exp <= now) writes.emplace_back(key, std::nullopt);
    }
  }
  if (!writes.empty()) RETURN_IF_ERROR(store_->PutRecords(writes));
  return writes.size();
}

}  // namespace medhub::security
