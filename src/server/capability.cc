// GET /fhir/metadata: the CapabilityStatement, built from what the code supports.
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource_types.h"
#include "fhir/search_params.h"
#include "server/fhir_api.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

json::Value Str(std::string_view s) { return json::Value::String(std::string(s)); }

std::string_view TypeName(fhir::ParamType t) {
  switch (t) {
    case fhir::ParamType::kToken:
      return "token";
    case fhir::ParamType::kString:
      return "string";
    case fhir::ParamType::kDate:
      return "date";
    case fhir::ParamType::kReference:
      return "reference";
    case fhir::ParamType::kQuantity:
      return "quantity";
  }
  return "string";
}

json::Value Interactions(std::initializer_list<std::string_view> codes) {
  json::Value arr = json::Value::Array();
  for (auto c : codes) {
    json::Value i = json::Value::Object();
    i.set("code", Str(c));
    arr.push_back(std::move(i));
  }
  return arr;
}

json::Value Operation(std::string_view name, std::string_view definition) {
  json::Value op = json::Value::Object();
  op.set("name", Str(name));
  op.set("definition", Str(definition));
  return op;
}

json::Value BuildCapabilityStatement(const std::string& base_url, bool ledger) {
  json::Value cs = json::Value::Object();
  cs.set("resourceType", Str("CapabilityStatement"));
  cs.set("status", Str("active"));
  cs.set("date", Str(FormatInstant(NowMicros()).substr(0, 10)));
  cs.set("kind", Str("instance"));
  json::Value software = json::Value::Object();
  software.set("name", Str("medhub"));
  software.set("version", Str("0.1.0"));
  cs.set("software", std::move(software));
  json::Value impl = json::Value::Object();
  impl.set("description", Str("medhub personal health data center"));
  impl.set("url", Str(base_url));
  cs.set("implementation", std::move(impl));
  cs.set("fhirVersion", Str("4.0.1"));
  json::Value formats = json::Value::Array();
  formats.push_back(Str("application/fhir+json"));
  formats.push_back(Str("json"));
  cs.set("format", std::move(formats));

  json::Value rest = json::Value::Object();
  rest.set("mode", Str("server"));
  json::Value resources = json::Value::Array();
  for (std::string_view type : fhir::AllResourceTypes()) {
    json::Value r = json::Value::Object();
    r.set("type", Str(type));
    r.set("interaction", Interactions({"read", "vread", "update", "delete", "history-instance",
                                       "history-type", "create", "search-type"}));
    r.set("versioning", Str("versioned-update"));
    r.set("readHistory", json::Value::Bool(true));
    r.set("updateCreate", json::Value::Bool(true));
    r.set("conditionalCreate", json::Value::Bool(true));
    r.set("conditionalUpdate", json::Value::Bool(false));
    r.set("conditionalDelete", Str("not-supported"));
    json::Value includes = json::Value::Array(), revincludes = json::Value::Array();
    json::Value params = json::Value::Array();
    json::Value id = json::Value::Object();
    id.set("name", Str("_id"));
    id.set("type", Str("token"));
    params.push_back(std::move(id));
    for (const fhir::SearchParamDef* p : fhir::SearchParamsOf(type)) {
      json::Value sp = json::Value::Object();
      sp.set("name", Str(p->name));
      sp.set("type", Str(TypeName(p->type)));
      params.push_back(std::move(sp));
      if (p->type == fhir::ParamType::kReference && !p->resource.empty())
        includes.push_back(Str(std::string(type) + ":" + std::string(p->name)));
    }
    for (const auto& p : fhir::AllSearchParams())
      if (p.type == fhir::ParamType::kReference && p.target == type)
        revincludes.push_back(Str(std::string(p.resource) + ":" + std::string(p.name)));
    if (!includes.items().empty()) r.set("searchInclude", std::move(includes));
    if (!revincludes.items().empty()) r.set("searchRevInclude", std::move(revincludes));
    r.set("searchParam", std::move(params));
    json::Value ops = json::Value::Array();
    if (type == "Patient")
      ops.push_back(
          Operation("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"));
    // GET [type]/[id]/_history/[vid]/$verify: the version's ledger commitment and proofs
    // (docs/formats/ledger.md); medhub's own operation, offered when a ledger is attached.
    if (ledger) ops.push_back(Operation("verify", base_url + "/OperationDefinition/medhub-verify"));
    if (!ops.items().empty()) r.set("operation", std::move(ops));
    resources.push_back(std::move(r));
  }
  rest.set("resource", std::move(resources));
  rest.set("interaction", Interactions({"transaction", "batch", "history-system"}));
  json::Value rests = json::Value::Array();
  rests.push_back(std::move(rest));
  cs.set("rest", std::move(rests));
  return cs;
}

}  // namespace

HttpResponse FhirApi::Capabilities() {
  // Built once per FhirApi (it depends only on the code and this API's base URL): the
  // constructor's call builds it before any request can arrive; later calls only read it.
  if (capability_json_.empty())
    capability_json_ =
        json::Serialize(BuildCapabilityStatement(options_.base_url, options_.verifier != nullptr));
  return JsonResponse(200, capability_json_);
}

}  // namespace medhub::server
