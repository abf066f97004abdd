#include "security/clients.h"

#include <utility>

#include "core/hash.h"
#include "core/json.h"
#include "security/accounts.h"
#include "security/base64.h"
#include "security/password.h"

namespace medhub::security {
namespace {

constexpr char kClientPrefix[] = "security/client/";

std::string Key(std::string_view id) { return kClientPrefix + std::string(id); }

std::string Serialize(const Client& c) {
  json::Value v = json::Value::Object();
  v.set("client_id", json::Value::String(c.client_id));
  v.set("role", json::Value::String(std::string(RoleName(c.role))));
  v.set("organization", json::Value::String(c.organization));
  v.set("patient", json::Value::String(c.patient));
  v.set("device", json::Value::String(c.device));
  v.set("scope", json::Value::String(FormatScopes(c.scopes)));
  v.set("secret_sha256", json::Value::String(c.secret_sha256));
  v.set("disabled", json::Value::Bool(c.disabled));
  v.set("created", json::Value::Int(c.created));
  return json::Serialize(v);
}

Result<Client> Parse(std::string_view key, std::string_view text) {
  const Status corrupt = Status::DataLoss("client record " + std::string(key) + " is corrupt");
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return corrupt;
  Client c;
  c.client_id = std::string(v->get_string("client_id"));
  auto role = ParseRole(v->get_string("role"));
  auto scopes = ParseScopes(v->get_string("scope"));
  const json::Value* created = v->find("created");
  if (!role.ok() || !scopes.ok() || c.client_id.empty() || created == nullptr || !created->as_int())
    return corrupt;
  c.role = *role;
  c.scopes = std::move(scopes).value();
  c.organization = std::string(v->get_string("organization"));
  c.patient = std::string(v->get_string("patient"));
  c.device = std::string(v->get_string("device"));
  c.secret_sha256 = std::string(v->get_string("secret_sha256"));
  const json::Value* disabled = v->find("disabled");
  c.disabled = disabled == nullptr || !disabled->is_bool() || disabled->as_bool();  // fail closed
  c.created = *created->as_int();
  return c;
}

}  // namespace

Clients::Clients(store::Store* store) : store_(store) {}

Status Clients::Put(const Client& client) {
  return store_->PutRecords({{Key(client.client_id), Serialize(client)}});
}

Result<std::string> Clients::Add(Client client, int64_t now) {
  if (Status s = CheckUsername(client.client_id); !s.ok())
    return Status::InvalidArgument("a client id has 3 to 64 characters of a-z 0-9 . _ -");
  RETURN_IF_ERROR(
      CheckRoleAttributes(client.role, {client.organization, client.patient, client.device}));
  if (client.scopes.empty()) return Status::InvalidArgument("a client needs at least one scope");
  for (const Scope& s : client.scopes) {
    if (NarrowToRole({s}, client.role) != std::vector<Scope>{s})
      return Status::InvalidArgument("scope " + s.ToString() + " exceeds what a " +
                                     std::string(RoleName(client.role)) + " may hold");
  }
  std::string secret = Base64UrlEncode(RandomBytes(32));
  client.secret_sha256 = ToHex(Sha256(secret));
  client.disabled = false;
  client.created = now;
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, store_->GetRecord(Key(client.client_id)));
  if (existing) return Status::AlreadyExists("client '" + client.client_id + "' exists");
  RETURN_IF_ERROR(Put(client));
  return secret;
}

Result<Client> Clients::Get(std::string_view client_id) {
  if (!CheckUsername(client_id).ok()) return Status::InvalidArgument("malformed client id");
  const std::string key = Key(client_id);
  ASSIGN_OR_RETURN(std::optional<std::string> text, store_->GetRecord(key));
  if (!text) return Status::NotFound("no client '" + std::string(client_id) + "'");
  return Parse(key, *text);
}

Result<std::vector<Client>> Clients::List() {
  ASSIGN_OR_RETURN(auto records, store_->ScanRecords(kClientPrefix));
  std::vector<Client> out;
  for (const auto& [key, value] : records) {
    ASSIGN_OR_RETURN(Client c, Parse(key, value));
    out.push_back(std::move(c));
  }
  return out;
}

Status Clients::Disable(std::string_view client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Client c, Get(client_id));
  if (c.disabled) return Status::Ok();
  c.disabled = true;
  return Put(c);
}

Result<Client> Clients::Authenticate(std::string_view client_id, std::string_view secret) {
  const Status refused = Status::Unauthenticated(kInvalidClient);
  // Hash first, whatever happens next, so that timing does not depend on the client id.
  const std::string presented = ToHex(Sha256(secret));
  auto client = Get(client_id);
  if (!client.ok()) {
    const StatusCode code = client.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument) return refused;
    return client.status();
  }
  if (!ConstantTimeEquals(presented, client->secret_sha256) || client->disabled) return refused;
  return client;
}

}  // namespace medhub::security
