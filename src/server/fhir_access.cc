// Access control around the FHIR API: authentication, the AuditEvent of every request,
// break-the-glass notifications and relation-cache invalidation (docs/security.md).
#include <algorithm>
#include <set>

#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "security/role.h"
#include "server/fhir_api.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

constexpr size_t kMaxBreakGlassReason = 512;
constexpr size_t kFilterChunk = 256;

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// The FHIR restful-interaction code of a request, for AuditEvent.subtype.
std::string InteractionOf(const HttpRequest& req) {
  std::vector<std::string_view> seg = Segments(req.path);
  if (!seg.empty()) seg.erase(seg.begin());  // "fhir"
  const std::string& m = req.method;
  const bool get = m == "GET" || m == "HEAD";
  if (seg.empty()) return m == "POST" ? "batch" : "unknown";
  if (seg[0] == "metadata") return "capabilities";
  if (seg[0] == "_history") return "history-system";
  if (seg.size() == 1) return get ? "search-type" : m == "POST" ? "create" : "unknown";
  if (seg[1] == "_search") return "search-type";
  if (seg[1] == "_history") return "history-type";
  if (seg.size() == 2) {
    if (get) return "read";
    if (m == "PUT") return "update";
    if (m == "DELETE") return "delete";
    return "unknown";
  }
  if (seg[2] == "_history")
    return seg.size() == 3 ? "history-instance" : seg.size() == 4 ? "vread" : "operation";
  return "operation";
}

}  // namespace

HttpResponse FhirApi::HandleEnforced(const HttpRequest& req) {
  if (req.path == "/fhir/metadata" && (req.method == "GET" || req.method == "HEAD")) {
    RequestAccess open;
    return HandleAs(req, open);
  }
  auto principal = options_.authenticate(req);
  if (!principal.ok()) {
    HttpResponse r = ErrorResponse(principal.status());
    if (principal.status().code() == StatusCode::kUnauthenticated && options_.challenge)
      r.headers.emplace_back("WWW-Authenticate", options_.challenge(principal.status()));
    RequestAccess none;
    AfterRequest(req, r, none);
    return r;
  }
  // Whoever reads the audit trail sees every event recorded before this request.
  if (options_.audit != nullptr &&
      (req.path.starts_with("/fhir/AuditEvent") || req.path == "/fhir/_history" ||
       req.path == "/fhir" || req.path == "/fhir/"))
    (void)options_.audit->Flush();
  std::string reason(req.header(kBreakGlassHeader));
  RequestAccess a(&*principal, options_.relations, reason);
  HttpResponse r;
  if (!reason.empty() && reason.size() > kMaxBreakGlassReason) {
    r = ErrorResponse(
        Status::InvalidArgument("X-Break-Glass: the reason is longer than 512 bytes"));
  } else if (!reason.empty() && principal->role != security::Role::kPractitioner) {
    r = ErrorResponse(Status::PermissionDenied("break-the-glass is for practitioners only"));
  } else {
    r = HandleAs(req, a);
  }
  AfterRequest(req, r, a);
  return r;
}

void FhirApi::AfterRequest(const HttpRequest& req, HttpResponse& resp, RequestAccess& a) {
  if (options_.relations != nullptr) {
    if (a.relations_all()) {
      options_.relations->InvalidateAll();
    } else {
      for (const std::string& p : a.relation_patients()) options_.relations->Invalidate(p);
    }
  }
  const bool break_glass = !a.break_glass_patients().empty();
  if (break_glass) NotifyBreakGlass(a);
  if (options_.audit == nullptr) return;
  security::AuditRecord rec = security::AuditRecordFor(
      a.principal(), options_.clock ? options_.clock() : NowMicros(), req.remote_address,
      InteractionOf(req), req.method, req.target, resp.status, resp.body);
  if (resp.status >= 400 && !a.denial().empty()) rec.outcome_detail = a.denial();
  rec.break_glass = break_glass;
  rec.break_glass_reason = a.break_glass_reason();
  rec.patients.assign(a.patients().begin(), a.patients().end());
  rec.resources = a.resources();
  // Writes and break-the-glass wait for their AuditEvent to be durable; reads and refusals
  // are answered while theirs is being written (security/audit.h).
  const bool read = req.method == "GET" || req.method == "HEAD" ||
                    (req.method == "POST" && req.path.ends_with("/_search"));
  const bool wait = break_glass || (!read && resp.status < 400);
  if (Status s = options_.audit->Record(rec, wait); !s.ok()) {
    // Durable before acknowledged: without its audit trail the answer is withheld.
    resp =
        ErrorResponse(Status::Unavailable("the audit trail could not be written: " + s.message()));
  }
}

void FhirApi::NotifyBreakGlass(const RequestAccess& a) {
  const security::Principal* who = a.principal();
  const std::string sent = FormatInstant(options_.clock ? options_.clock() : NowMicros());
  std::vector<store::WriteOp> ops;
  for (const std::string& patient : a.break_glass_patients()) {
    json::Value c = json::Value::Object();
    c.set("resourceType", json::Value::String("Communication"));
    const std::string id = NewId();
    c.set("id", json::Value::String(id));
    c.set("status", json::Value::String("completed"));
    json::Value category = json::Value::Array();
    json::Value text = json::Value::Object();
    text.set("text", json::Value::String("break-the-glass access notice"));
    category.push_back(std::move(text));
    c.set("category", std::move(category));
    json::Value subject = json::Value::Object();
    subject.set("reference", json::Value::String("Patient/" + patient));
    c.set("subject", subject);
    json::Value recipients = json::Value::Array();
    recipients.push_back(subject);
    c.set("recipient", std::move(recipients));
    c.set("sent", json::Value::String(sent));
    json::Value payload = json::Value::Array();
    json::Value content = json::Value::Object();
    content.set("contentString",
                json::Value::String(who->subject + " (Organization/" + who->organization +
                                    ") opened your record without a care relation, stating: " +
                                    a.break_glass_reason()));
    payload.push_back(std::move(content));
    c.set("payload", std::move(payload));
    store::WriteOp op;
    op.type = "Communication";
    op.id = id;
    op.resource = std::move(c);
    op.create_only = true;
    ops.push_back(std::move(op));
  }
  // The access itself is allowed and audited either way; a failed notice is logged there.
  (void)store_->Commit(std::move(ops));
}

Status FhirApi::CheckReplace(std::string_view type, std::string_view id, RequestAccess& a) {
  if (!a.enforced()) {
    // Still note relation changes (for the cache) when the policy is off.
    auto existing = store_->Read(type, id);
    if (existing.ok() && !existing->deleted && security::AffectsRelations(type))
      return a.CheckWriteExisting(*existing);
    return Status::Ok();
  }
  auto existing = store_->Read(type, id);
  if (!existing.ok()) {
    if (existing.status().code() == StatusCode::kNotFound) return Status::Ok();
    return existing.status();
  }
  if (existing->deleted) return Status::Ok();
  if (!a.MayRead(*existing)) return HiddenNotFound(type, id);
  return a.CheckWriteExisting(*existing);
}

std::string FhirApi::PinnedPatient(std::string_view type, const Params& params) {
  std::string pinned;
  for (const auto& [name, value] : params) {
    if (name != "patient" && name != "subject") continue;
    const fhir::SearchParamDef* def = fhir::FindSearchParam(type, name);
    if (def == nullptr) continue;
    const fhir::SearchParamDef& indexed = fhir::IndexedParam(*def);
    if (indexed.paths.size() != 1 ||
        (indexed.paths[0] != "subject" && indexed.paths[0] != "patient"))
      continue;
    std::string_view v = value;
    if (v.starts_with("Patient/")) {
      v.remove_prefix(8);
    } else if (name == "subject") {
      continue;  // a subject of another type
    }
    if (v.empty() || !IsValidFhirId(v)) continue;   // several values, a URL, a modifier...
    if (!pinned.empty() && pinned != v) return "";  // two patients: no single compartment
    pinned = std::string(v);
  }
  return pinned;
}

Result<std::vector<std::string>> FhirApi::FilterReadable(std::string_view type,
                                                         std::vector<std::string> ids,
                                                         RequestAccess& a) {
  std::vector<std::string> order = ids;
  std::vector<std::string> kept;
  std::vector<std::pair<std::string, std::string>> keys;
  // A patient's own compartment (one index scan) needs no per-resource decision.
  std::set<std::string, std::less<>> own;
  const security::Principal* who = a.principal();
  if (who != nullptr && who->role == security::Role::kPatient &&
      a.MayReadCompartment(type, who->patient)) {
    ASSIGN_OR_RETURN(auto members, store_->Compartment(who->patient));
    for (const auto& m : members)
      if (m.type == type) own.insert(m.id);
    if (type == "Patient") own.insert(who->patient);
  }
  std::vector<std::string> rest;
  for (std::string& id : ids) {
    if (own.contains(id)) {
      kept.push_back(std::move(id));
    } else {
      rest.push_back(std::move(id));
    }
  }
  ids = std::move(rest);
  for (size_t start = 0; start < ids.size(); start += kFilterChunk) {
    keys.clear();
    const size_t end = std::min(ids.size(), start + kFilterChunk);
    for (size_t i = start; i < end; ++i) keys.emplace_back(std::string(type), ids[i]);
    auto results = store_->ReadMany(keys);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) {
        if (results[i].status().code() == StatusCode::kNotFound) continue;
        return results[i].status();
      }
      if (!results[i]->deleted && a.MayRead(*results[i])) kept.push_back(std::move(ids[start + i]));
    }
  }
  // The store's order (id order, or the _sort order) is kept.
  if (!own.empty()) {
    std::set<std::string, std::less<>> allowed(kept.begin(), kept.end());
    kept.clear();
    for (std::string& id : order)
      if (allowed.contains(id)) kept.push_back(std::move(id));
  }
  return kept;
}

}  // namespace medhub::server
