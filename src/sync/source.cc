#include "sync/source.h"

#include "core/json.h"

namespace medhub::sync {
namespace {

constexpr char kSourcePrefix[] = "sync/source/";
constexpr char kCheckpointPrefix[] = "sync/checkpoint/";

std::string SourceJson(const SourceConfig& s) {
  json::Value v = json::Value::Object();
  v.set("name", json::Value::String(s.name));
  v.set("fhirBase", json::Value::String(s.fhir_base));
  if (!s.token.empty()) v.set("token", json::Value::String(s.token));
  if (!s.client_id.empty()) v.set("clientId", json::Value::String(s.client_id));
  if (!s.client_secret_file.empty())
    v.set("clientSecretFile", json::Value::String(s.client_secret_file));
  if (!s.ca_file.empty()) v.set("caFile", json::Value::String(s.ca_file));
  return json::Serialize(v);
}

Result<SourceConfig> SourceFromJson(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return Status::DataLoss("malformed sync source record");
  SourceConfig s;
  s.name = v->get_string("name");
  s.fhir_base = v->get_string("fhirBase");
  s.token = v->get_string("token");
  s.client_id = v->get_string("clientId");
  s.client_secret_file = v->get_string("clientSecretFile");
  s.ca_file = v->get_string("caFile");
  return s;
}

}  // namespace

Status ValidateSourceName(std::string_view name) {
  if (name.empty() || name.size() > 24)
    return Status::InvalidArgument("a source name has 1-24 characters of [a-z0-9]");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return Status::InvalidArgument("source name '" + std::string(name) +
                                     "': only [a-z0-9] are allowed");
  return Status::Ok();
}

Status PutSource(store::Store* store, const SourceConfig& source) {
  RETURN_IF_ERROR(ValidateSourceName(source.name));
  const std::string& b = source.fhir_base;
  if (!(b.starts_with("http://") || b.starts_with("https://")) || b.ends_with("/") ||
      b.find_first_of(" ?#") != std::string::npos)
    return Status::InvalidArgument(
        "--fhir-base must be an http(s) URL without a trailing slash, query or fragment");
  if (!source.token.empty() && !source.client_id.empty())
    return Status::InvalidArgument("give either --token or --client-id, not both");
  if (source.client_id.empty() != source.client_secret_file.empty())
    return Status::InvalidArgument("--client-id and --client-secret-file go together");
  return store->PutRecords({{kSourcePrefix + source.name, SourceJson(source)}});
}

Result<SourceConfig> GetSource(store::Store* store, std::string_view name) {
  RETURN_IF_ERROR(ValidateSourceName(name));
  ASSIGN_OR_RETURN(auto rec, store->GetRecord(kSourcePrefix + std::string(name)));
  if (!rec) return Status::NotFound("no sync source named '" + std::string(name) + "'");
  return SourceFromJson(*rec);
}

Result<std::vector<SourceConfig>> ListSources(store::Store* store) {
  ASSIGN_OR_RETURN(auto recs, store->ScanRecords(kSourcePrefix));
  std::vector<SourceConfig> out;
  for (const auto& [key, value] : recs) {
    ASSIGN_OR_RETURN(SourceConfig s, SourceFromJson(value));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Checkpoint> GetCheckpoint(store::Store* store, std::string_view name) {
  ASSIGN_OR_RETURN(auto rec, store->GetRecord(kCheckpointPrefix + std::string(name)));
  Checkpoint c;
  if (!rec) return c;
  auto v = json::Parse(*rec);
  if (!v.ok() || !v->is_object()) return Status::DataLoss("malformed sync checkpoint record");
  auto num = [&](std::string_view k) -> int64_t {
    const json::Value* n = v->find(k);
    return n && n->as_int() ? *n->as_int() : 0;
  };
  c.since = num("since");
  c.since_text = v->get_string("sinceText");
  c.runs = static_cast<uint64_t>(num("runs"));
  c.resources = static_cast<uint64_t>(num("resources"));
  c.last_run = num("lastRun");
  if (const json::Value* b = v->find("boundary"); b && b->is_array())
    for (const json::Value& e : b->items()) c.boundary.push_back(e.text());
  return c;
}

Status PutCheckpoint(store::Store* store, std::string_view name, const Checkpoint& c) {
  json::Value v = json::Value::Object();
  v.set("since", json::Value::Int(c.since));
  v.set("sinceText", json::Value::String(c.since_text));
  json::Value b = json::Value::Array();
  for (const std::string& k : c.boundary) b.push_back(json::Value::String(k));
  v.set("boundary", std::move(b));
  v.set("runs", json::Value::Int(static_cast<int64_t>(c.runs)));
  v.set("resources", json::Value::Int(static_cast<int64_t>(c.resources)));
  v.set("lastRun", json::Value::Int(c.last_run));
  return store->PutRecords({{kCheckpointPrefix + std::string(name), json::Serialize(v)}});
}

}  // namespace medhub::sync
