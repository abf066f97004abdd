#include "server/auth_api.h"

#include <map>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "security/base64.h"
#include "security/password.h"
#include "security/scope.h"
#include "security/signing_key.h"

namespace medhub::server {
namespace {

constexpr char kMissingAuthorization[] = "missing Authorization header";
constexpr int64_t kPruneEveryMicros = 3600'000'000;  // an hour

using Params = std::map<std::string, std::string>;

// An RFC 6749 §5.2 error (or any OAuth response) as an HTTP response.
struct OAuthError {
  int status = 400;
  std::string error;        // invalid_request, invalid_grant, ...
  std::string description;  // safe to show the client
};

void AddNoStore(HttpResponse* r) {
  r->headers.emplace_back("Cache-Control", "no-store");
  r->headers.emplace_back("Pragma", "no-cache");
}

HttpResponse ErrorOf(const OAuthError& e) {
  json::Value body = json::Value::Object();
  body.set("error", json::Value::String(e.error));
  if (!e.description.empty()) body.set("error_description", json::Value::String(e.description));
  HttpResponse r;
  r.status = e.status;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  AddNoStore(&r);
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", R"(Basic realm="medhub")");
  r.body = json::Serialize(body);
  return r;
}

OAuthError InvalidRequest(std::string why) { return {400, "invalid_request", std::move(why)}; }

// Maps a failure of the store or signer: never shown in detail.
OAuthError ServerError(const Status& s) {
  if (s.code() == StatusCode::kUnavailable) return {503, "temporarily_unavailable", ""};
  return {500, "server_error", ""};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an application/x-www-form-urlencoded body. Parameters without a value count as
// omitted (RFC 6749 §3.1); a repeated parameter is an error (§3.2).
Result<Params> ParseForm(std::string_view body) {
  Params params;
  for (auto& [name, value] : ParseUrlEncoded(body)) {
    if (value.empty()) continue;
    if (params.contains(name))
      return Status::InvalidArgument("parameter '" + name.substr(0, 40) + "' is repeated");
    params.emplace(std::move(name), std::move(value));
  }
  return params;
}

std::string Get(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

// How the client authenticated, if it did: HTTP Basic or client_id + client_secret.
struct ClientAuth {
  bool present = false;
  std::string id;
  std::string secret;
};

Result<ClientAuth> ClientAuthOf(const HttpRequest& req, const Params& params) {
  ClientAuth auth;
  const std::string_view header = req.header("authorization");
  if (!header.empty()) {
    const size_t sp = header.find(' ');
    if (sp == std::string_view::npos || Lower(header.substr(0, sp)) != "basic")
      return Status::InvalidArgument("only HTTP Basic client authentication is accepted here");
    auto decoded = security::Base64Decode(Trim(header.substr(sp + 1)));
    const size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return Status::Unauthenticated("malformed HTTP Basic credentials");
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    auth = {true, PercentDecode(decoded->substr(0, colon), true),
            PercentDecode(decoded->substr(colon + 1), true)};
    security::Wipe(&decoded.value());
  }
  if (params.contains("client_secret")) {
    if (auth.present) return Status::InvalidArgument("use one client authentication method");
    auth = {true, Get(params, "client_id"), Get(params, "client_secret")};
  }
  return auth;
}

// The form and the client authentication of a token or revocation request, or the OAuth
// error response to send instead.
struct ClientRequest {
  Params form;
  ClientAuth client;
};
std::variant<ClientRequest, HttpResponse> ParseClientRequest(const HttpRequest& request) {
  auto form = ParseForm(request.body);
  if (!form.ok()) return ErrorOf(InvalidRequest(form.status().message()));
  auto client = ClientAuthOf(request, *form);
  if (!client.ok()) {
    if (client.status().code() == StatusCode::kUnauthenticated)
      return ErrorOf({401, "invalid_client", client.status().message()});
    return ErrorOf(InvalidRequest(client.status().message()));
  }
  return ClientRequest{std::move(form).value(), std::move(client).value()};
}

// The scopes to grant: `requested` narrowed to `allowed`, or all of `allowed` when nothing
// was requested. Errors: InvalidArgument when requested scopes are malformed or none is
// allowed.
Result<std::vector<security::Scope>> GrantScopes(const std::string& requested,
                                                 const std::vector<security::Scope>& allowed) {
  ASSIGN_OR_RETURN(std::vector<security::Scope> asked, security::ParseScopes(requested));
  std::vector<security::Scope> granted =
      asked.empty() ? security::Narrow(allowed, allowed) : security::Narrow(asked, allowed);
  if (granted.empty())
    return Status::InvalidArgument("none of the requested scopes may be granted");
  return granted;
}

HttpResponse TokenResponse(const security::IssuedTokens& t) {
  json::Value body = json::Value::Object();
  body.set("access_token", json::Value::String(t.access_token));
  body.set("token_type", json::Value::String("Bearer"));
  body.set("expires_in", json::Value::Int(t.expires_in));
  body.set("scope", json::Value::String(t.claims.scope));
  if (!t.refresh_token.empty()) body.set("refresh_token", json::Value::String(t.refresh_token));
  if (!t.claims.patient.empty()) body.set("patient", json::Value::String(t.claims.patient));
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  AddNoStore(&r);
  r.body = json::Serialize(body);
  return r;
}

security::Grant GrantFor(const security::Account& a, std::vector<security::Scope> scopes) {
  return {a.username, a.role, a.organization, a.patient, a.device, "", std::move(scopes)};
}

// The response to a successful grant, or the error of a failed one.
HttpResponse IssuedOrError(const Result<security::IssuedTokens>& issued) {
  if (!issued.ok()) return ErrorOf(ServerError(issued.status()));
  return TokenResponse(*issued);
}

// grant_type=password (RFC 6749 §4.3). Wipes the password parameter.
HttpResponse PasswordGrant(security::Accounts& accounts, security::TokenService& tokens,
                           Params* params, int64_t now) {
  const std::string username = Get(*params, "username");
  std::string& password = (*params)["password"];
  if (username.empty() || password.empty())
    return ErrorOf(InvalidRequest("username and password are required"));
  auto account = accounts.Authenticate(username, password, now);
  security::Wipe(&password);
  if (!account.ok()) {
    if (account.status().code() == StatusCode::kUnauthenticated)
      return ErrorOf({400, "invalid_grant", security::kInvalidCredentials});
    return ErrorOf(ServerError(account.status()));
  }
  auto scopes = GrantScopes(Get(*params, "scope"), security::RoleScopes(account->role));
  if (!scopes.ok()) return ErrorOf({400, "invalid_scope", scopes.status().message()});
  return IssuedOrError(tokens.Issue(GrantFor(*account, std::move(scopes).value()), true, now));
}

// grant_type=client_credentials (RFC 6749 §4.4). Wipes the secret.
HttpResponse ClientCredentialsGrant(security::Clients& clients, security::TokenService& tokens,
                                    const Params& params, ClientAuth* auth, int64_t now) {
  if (!auth->present) return ErrorOf({401, "invalid_client", "client authentication is required"});
  auto c = clients.Authenticate(auth->id, auth->secret);
  security::Wipe(&auth->secret);
  if (!c.ok()) {
    if (c.status().code() == StatusCode::kUnauthenticated)
      return ErrorOf({401, "invalid_client", security::kInvalidClient});
    return ErrorOf(ServerError(c.status()));
  }
  auto scopes = GrantScopes(Get(params, "scope"), security::NarrowToRole(c->scopes, c->role));
  if (!scopes.ok()) return ErrorOf({400, "invalid_scope", scopes.status().message()});
  const security::Grant grant{c->client_id, c->role,      c->organization,          c->patient,
                              c->device,    c->client_id, std::move(scopes).value()};
  return IssuedOrError(tokens.Issue(grant, false, now));
}

// The grant for a refresh of `record`: the account as it is now, and never more scope than
// first granted nor than its role holds now (RFC 6749 §6). Sets *account_gone when the
// account was disabled or deleted.
Result<security::Grant> RefreshedGrant(security::Accounts& accounts,
                                       const security::RefreshRecord& record,
                                       const std::string& requested_text,
                                       const std::vector<security::Scope>& requested,
                                       bool* account_gone) {
  auto account = accounts.Get(record.subject);
  if (!account.ok() || account->disabled) {
    *account_gone = true;
    return Status::Unauthenticated("the account is disabled");
  }
  ASSIGN_OR_RETURN(std::vector<security::Scope> original, security::ParseScopes(record.scope));
  const auto allowed = security::NarrowToRole(original, account->role);
  for (const security::Scope& s : requested) {
    if (security::Narrow({s}, allowed) != std::vector<security::Scope>{s})
      return Status::InvalidArgument("scope " + s.ToString() + " was not granted");
  }
  ASSIGN_OR_RETURN(std::vector<security::Scope> scopes, GrantScopes(requested_text, allowed));
  return GrantFor(*account, std::move(scopes));
}

// grant_type=refresh_token (RFC 6749 §6), with rotation (security/token.h).
HttpResponse RefreshGrant(security::Accounts& accounts, security::TokenService& tokens,
                          const Params& params, int64_t now) {
  const std::string refresh_token = Get(params, "refresh_token");
  if (refresh_token.empty()) return ErrorOf(InvalidRequest("refresh_token is required"));
  const std::string scope_text = Get(params, "scope");
  auto requested = security::ParseScopes(scope_text);
  if (!requested.ok()) return ErrorOf({400, "invalid_scope", requested.status().message()});
  bool account_gone = false;
  auto issued = tokens.Refresh(refresh_token, now, [&](const security::RefreshRecord& record) {
    return RefreshedGrant(accounts, record, scope_text, *requested, &account_gone);
  });
  // A disabled account's session ends here (best effort: the grant is refused either way).
  if (account_gone) (void)tokens.RevokeRefreshToken(refresh_token, now);
  if (!issued.ok() && issued.status().code() == StatusCode::kInvalidArgument)
    return ErrorOf({400, "invalid_scope", issued.status().message()});
  if (!issued.ok() && issued.status().code() == StatusCode::kUnauthenticated)
    return ErrorOf({400, "invalid_grant", issued.status().message()});
  return IssuedOrError(issued);
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsB64Token(std::string_view s) {
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

}  // namespace

Result<std::unique_ptr<AuthApi>> AuthApi::Open(store::Store* store, AuthApiOptions options) {
  ASSIGN_OR_RETURN(PrivateKey key, security::LoadOrCreateSigningKey(options.data_dir));
  return std::make_unique<AuthApi>(store, std::move(key), std::move(options));
}

AuthApi::AuthApi(store::Store* store, PrivateKey signing_key, AuthApiOptions options)
    : options_(std::move(options)),
      accounts_(store, options_.accounts),
      clients_(store),
      tokens_(store, std::move(signing_key), options_.tokens) {}

int64_t AuthApi::Now() const { return options_.clock ? options_.clock() : NowMicros(); }

HttpResponse AuthApi::Handle(const HttpRequest& request) {
  const bool token = request.path == "/auth/token", revoke = request.path == "/auth/revoke";
  if (!token && !revoke) return ErrorOf({404, "invalid_request", "no such endpoint"});
  if (request.method != "POST") {
    HttpResponse r = ErrorOf({405, "invalid_request", "use POST"});
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (request.body.size() > options_.max_body_bytes)
    return ErrorOf({413, "invalid_request", "request body too large"});
  const std::string_view content_type = request.header("content-type");
  const std::string media = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  if (media != "application/x-www-form-urlencoded")
    return ErrorOf({415, "invalid_request", "use application/x-www-form-urlencoded"});
  if (!request.query.empty())
    return ErrorOf(InvalidRequest("parameters belong in the request body, not the URL"));
  return token ? Token(request) : Revoke(request);
}

HttpResponse AuthApi::Token(const HttpRequest& request) {
  auto parsed = ParseClientRequest(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  auto& [form_value, client_value] = std::get<ClientRequest>(parsed);
  Params* form = &form_value;
  ClientAuth* client = &client_value;
  const std::string grant_type = Get(*form, "grant_type");
  if (grant_type.empty()) return ErrorOf(InvalidRequest("grant_type is required"));
  if (grant_type != "client_credentials" && client->present)
    return ErrorOf(InvalidRequest("client authentication is only for client_credentials"));
  const int64_t now = Now();
  MaybePrune(now);
  if (grant_type == "password") return PasswordGrant(accounts_, tokens_, form, now);
  if (grant_type == "client_credentials")
    return ClientCredentialsGrant(clients_, tokens_, *form, client, now);
  if (grant_type == "refresh_token") return RefreshGrant(accounts_, tokens_, *form, now);
  return ErrorOf({400, "unsupported_grant_type",
                  "grant_type must be password, client_credentials or refresh_token"});
}

HttpResponse AuthApi::Revoke(const HttpRequest& request) {
  auto parsed = ParseClientRequest(request);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return std::move(*error);
  auto& [form_value, client_value] = std::get<ClientRequest>(parsed);
  Params* form = &form_value;
  ClientAuth* client = &client_value;
  if (client->present && !clients_.Authenticate(client->id, client->secret).ok())
    return ErrorOf({401, "invalid_client", security::kInvalidClient});
  const std::string token = Get(*form, "token");
  if (token.empty()) return ErrorOf(InvalidRequest("token is required"));
  const int64_t now = Now();
  // Access tokens are JWTs (three dot-separated parts); refresh tokens have no dots.
  const Status s = token.find('.') != std::string::npos ? tokens_.RevokeAccessToken(token, now)
                                                        : tokens_.RevokeRefreshToken(token, now);
  if (!s.ok()) return ErrorOf(ServerError(s));
  HttpResponse r;
  AddNoStore(&r);
  return r;
}

void AuthApi::MaybePrune(int64_t now) {
  int64_t due = next_prune_.load();
  if (now < due || !next_prune_.compare_exchange_strong(due, now + kPruneEveryMicros)) return;
  (void)tokens_.PruneExpired(now);  // housekeeping: a failure only delays it to the next hour
}

Result<security::Principal> AuthApi::Authenticate(const HttpRequest& request) const {
  size_t count = 0;
  std::string_view value;
  for (const auto& [name, v] : request.headers) {
    if (name == "authorization") {
      ++count;
      value = v;
    }
  }
  if (count == 0) return Status::Unauthenticated(kMissingAuthorization);
  if (count > 1) return Status::Unauthenticated("more than one Authorization header");
  if (value.size() > security::kMaxTokenBytes + 16)
    return Status::Unauthenticated("Authorization header is too large");
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos || Lower(value.substr(0, sp)) != "bearer")
    return Status::Unauthenticated("Authorization scheme is not Bearer");
  const std::string_view token = value.substr(sp + 1);
  if (!IsB64Token(token)) return Status::Unauthenticated("malformed Bearer token");
  return tokens_.Verify(token, Now());
}

std::string BearerChallenge(const Status& status) {
  std::string out = R"(Bearer realm="medhub")";
  if (status.message() == kMissingAuthorization) return out;
  std::string description;
  for (char c : status.message()) description.push_back(c == '"' || c == '\\' ? '\'' : c);
  return out + R"(, error="invalid_token", error_description=")" + description + "\"";
}

}  // namespace medhub::server
