#include "server/fhir_api.h"

#include <charconv>
#include <map>
#include <set>

#include "core/http_client.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/resource_types.h"
#include "fhir/search_params.h"
#include "fhir/search_query.h"
#include "server/bundle_writer.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string_view> Split(std::string_view path) {
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

std::string ETag(uint64_t version) { return "W/\"" + std::to_string(version) + "\""; }

Result<uint64_t> ParseVersion(std::string_view vid) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(vid.data(), vid.data() + vid.size(), v);
  if (ec != std::errc() || p != vid.data() + vid.size() || v == 0)
    return Status::NotFound("no version '" + std::string(vid.substr(0, 32)) + "'");
  return v;
}

Status CheckType(std::string_view type) {
  if (!fhir::IsKnownResourceType(type))
    return Status::NotFound("unknown resource type '" + std::string(type.substr(0, 64)) + "'");
  return Status::Ok();
}

HttpResponse WithResourceHeaders(HttpResponse r, const store::StoredResource& res) {
  r.headers.emplace_back("ETag", ETag(res.version));
  r.headers.emplace_back("Last-Modified", HttpDate(res.last_updated));
  return r;
}

// Appends the relative "Type/id" references of a stored resource. The stored bytes are
// canonical compact JSON, in which the byte sequence `"reference":"` after '{' or ','
// can only be a member named "reference" with a string value (a quote inside a string is
// always escaped), so the references are found without parsing the whole resource.
void ScanReferences(std::string_view json, std::vector<std::string>* out) {
  static constexpr std::string_view kKey = "\"reference\":\"";
  for (size_t pos = json.find(kKey); pos != std::string_view::npos;
       pos = json.find(kKey, pos + 1)) {
    if (pos == 0 || (json[pos - 1] != '{' && json[pos - 1] != ',')) continue;
    const size_t start = pos + kKey.size();
    const size_t end = json.find('"', start);
    if (end == std::string_view::npos) return;
    std::string_view value = json.substr(start, end - start);
    if (value.find('\\') != std::string_view::npos) continue;  // escaped: not Type/id
    auto ref = fhir::ParseReference(value);
    if (ref.ok() && ref->kind == fhir::Reference::Kind::kRelative)
      out->push_back(ref->type + "/" + ref->id);
  }
}

}  // namespace

FhirApi::FhirApi(store::Store* store, FhirApiOptions options)
    : store_(store), options_(std::move(options)) {
  Capabilities();  // builds capability_json_ while no request can run concurrently
}

HttpResponse FhirApi::Handle(const HttpRequest& req) {
  if (options_.authenticate) return HandleEnforced(req);
  RequestAccess open;
  return HandleAs(req, open);
}

HttpResponse FhirApi::HandleAs(const HttpRequest& req, RequestAccess& a) {
  std::string_view path = req.path;
  if (!path.starts_with("/fhir")) return ErrorResponse(Status::NotFound("not a FHIR path"));
  path.remove_prefix(5);
  if (!path.empty() && path[0] != '/') return ErrorResponse(Status::NotFound("not a FHIR path"));
  std::string_view accept = req.header("accept");
  if (!accept.empty() && accept.find("json") == std::string_view::npos &&
      accept.find("*/*") == std::string_view::npos) {
    HttpResponse r =
        ErrorResponse(Status::Unsupported("only JSON is served (Accept: application/fhir+json)"));
    r.status = 406;
    return r;
  }
  for (const auto& [k, v] : req.query) {
    if (k == "_format" && v.find("json") == std::string::npos) {
      HttpResponse r = ErrorResponse(Status::Unsupported("only _format=json is supported"));
      r.status = 406;
      return r;
    }
  }
  if ((req.method == "POST" || req.method == "PUT") && !req.body.empty()) {
    std::string_view ct = req.header("content-type");
    const bool form = ct.starts_with("application/x-www-form-urlencoded");
    if (!IsJsonMediaType(ct) && !(form && path.ends_with("/_search")))
      return ErrorResponse(Status::Unsupported("unsupported Content-Type '" +
                                               std::string(ct.substr(0, 80)) +
                                               "' (send application/fhir+json)"));
  }
  return Route(req, path, a);
}

HttpResponse FhirApi::Route(const HttpRequest& req, std::string_view path, RequestAccess& a) {
  const std::vector<std::string_view> seg = Split(path);
  const std::string& m = req.method;
  const bool get = m == "GET" || m == "HEAD";
  auto not_allowed = [&] {
    HttpResponse r =
        ErrorResponse(Status::Unsupported("method " + m + " is not allowed on " + req.path));
    r.status = 405;
    return r;
  };
  if (seg.empty()) {
    if (m == "POST") return Transaction(req, a);
    return not_allowed();
  }
  if (seg[0] == "metadata" && seg.size() == 1) return get ? Capabilities() : not_allowed();
  if (seg[0] == "_history" && seg.size() == 1) return get ? History(req, "", "", a) : not_allowed();
  const std::string_view type = seg[0];
  if (Status s = CheckType(type); !s.ok()) return ErrorResponse(s);
  // The audit trail is append-only: no update or delete through any API.
  if (type == "AuditEvent" && (m == "PUT" || m == "DELETE" || m == "PATCH")) return not_allowed();
  if (seg.size() == 1) {
    if (get) return Search(type, req.query, a);
    if (m == "POST") return Create(req, type, a);
    return not_allowed();
  }
  if (seg.size() == 2 && seg[1] == "_search") {
    if (m != "POST") return not_allowed();
    Params params = req.query;
    for (auto& p : ParseUrlEncoded(req.body)) params.push_back(std::move(p));
    return Search(type, params, a);
  }
  if (seg.size() == 2 && seg[1] == "_history")
    return get ? History(req, type, "", a) : not_allowed();
  const std::string_view id = seg[1];
  if (!IsValidFhirId(id))
    return ErrorResponse(
        Status::InvalidArgument("invalid id '" + std::string(id.substr(0, 64)) + "'"));
  if (seg.size() == 2) {
    if (get) return Read(type, id, a);
    if (m == "PUT") return Update(req, type, id, a);
    if (m == "DELETE") return Delete(type, id, a);
    return not_allowed();
  }
  if (seg.size() == 3 && seg[2] == "$everything" && type == "Patient")
    return get || m == "POST" ? Everything(id, a) : not_allowed();
  if (seg.size() == 5 && seg[2] == "_history" && seg[4] == "$verify")
    return get ? VerifyVersion(type, id, seg[3], a) : not_allowed();
  if (seg[2] == "_history") {
    if (!get) return not_allowed();
    if (seg.size() == 3) return History(req, type, id, a);
    if (seg.size() == 4) return VRead(type, id, seg[3], a);
  }
  return ErrorResponse(Status::NotFound("no such FHIR endpoint: " + req.path));
}

HttpResponse FhirApi::Create(const HttpRequest& req, std::string_view type, RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kWrite); !s.ok()) return ErrorResponse(s);
  auto parsed = fhir::ParseResource(req.body);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  json::Value resource = std::move(parsed).value();
  if (fhir::ResourceType(resource) != type)
    return ErrorResponse(Status::InvalidArgument("the body is a " +
                                                 std::string(fhir::ResourceType(resource)) +
                                                 ", the URL says " + std::string(type)));
  // The server assigns the id on create; a client id is ignored (FHIR R4 3.1.0.4).
  const std::string id = NewId();
  if (resource.find("id")) {
    resource.set("id", json::Value::String(id));
  } else {
    resource.insert_at(1, "id", json::Value::String(id));
  }
  if (Status s = a.CheckWrite(resource, /*creates=*/true); !s.ok()) return ErrorResponse(s);
  std::unique_lock<std::mutex> conditional;
  const std::string_view if_none_exist = req.header("if-none-exist");
  if (!if_none_exist.empty()) {
    conditional = std::unique_lock(conditional_mu_);
    std::string_view q = if_none_exist;
    if (size_t qm = q.find('?'); qm != std::string_view::npos) q = q.substr(qm + 1);
    auto query = fhir::ParseSearchQuery(type, ParseUrlEncoded(q));
    if (!query.ok()) return ErrorResponse(query.status().WithPrefix("If-None-Exist"));
    auto matches = store_->Search(*query);
    if (!matches.ok()) return ErrorResponse(matches.status());
    if (matches->size() > 1)
      return ErrorResponse(Status::FailedPrecondition(
          "If-None-Exist matches " + std::to_string(matches->size()) + " resources"));
    if (matches->size() == 1) {
      auto existing = store_->Read(type, matches->front());
      if (!existing.ok()) return ErrorResponse(existing.status());
      if (!a.MayRead(*existing))
        return ErrorResponse(
            Status::PermissionDenied("If-None-Exist matches a resource this caller may not read"));
      return WithResourceHeaders(JsonResponse(200, existing->json), *existing);
    }
  }
  store::WriteOp op;
  op.type = std::string(type);
  op.id = id;
  op.resource = std::move(resource);
  op.create_only = true;
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  auto out = store_->Commit(std::move(ops));
  if (!out.ok()) return ErrorResponse(out.status());
  const store::WriteOutcome& w = out->front();
  store::StoredResource res{std::string(type), id, w.version, w.last_updated, w.seq, false, w.json};
  HttpResponse r = WithResourceHeaders(JsonResponse(201, w.json), res);
  r.headers.emplace_back("Location", options_.base_url + "/" + std::string(type) + "/" + id +
                                         "/_history/" + std::to_string(w.version));
  if (req.header("prefer").find("return=minimal") != std::string_view::npos) r.body.clear();
  return r;
}

HttpResponse FhirApi::Read(std::string_view type, std::string_view id, RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kRead); !s.ok()) return ErrorResponse(s);
  auto r = store_->Read(type, id);
  if (!r.ok()) return ErrorResponse(r.status());
  if (r->deleted && a.enforced()) {
    // A deleted resource's last content decides who may learn that it was deleted.
    auto last = store_->ReadVersion(type, id, r->version - 1);
    if (!last.ok() || !a.MayRead(*last)) return ErrorResponse(HiddenNotFound(type, id));
  }
  if (!r->deleted) {
    if (Status s = a.CheckRead(*r); !s.ok()) return ErrorResponse(s);
  }
  if (r->deleted) {
    HttpResponse gone =
        ErrorResponse(Status::Gone(std::string(type) + "/" + std::string(id) + " was deleted"));
    gone.headers.emplace_back("ETag", ETag(r->version));
    return gone;
  }
  return WithResourceHeaders(JsonResponse(200, std::move(r->json)), *r);
}

HttpResponse FhirApi::VRead(std::string_view type, std::string_view id, std::string_view vid,
                            RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kRead); !s.ok()) return ErrorResponse(s);
  auto version = ParseVersion(vid);
  if (!version.ok()) return ErrorResponse(version.status());
  auto r = store_->ReadVersion(type, id, *version);
  if (!r.ok()) return ErrorResponse(r.status());
  if (a.enforced()) {
    auto shown = r->deleted && *version > 1 ? store_->ReadVersion(type, id, *version - 1) : r;
    if (!shown.ok()) return ErrorResponse(shown.status());
    if (Status s = a.CheckRead(*shown); !s.ok()) return ErrorResponse(s);
  }
  if (r->deleted)
    return ErrorResponse(Status::Gone("version " + std::string(vid) + " of " + std::string(type) +
                                      "/" + std::string(id) + " is a deletion"));
  return WithResourceHeaders(JsonResponse(200, std::move(r->json)), *r);
}

HttpResponse FhirApi::VerifyVersion(std::string_view type, std::string_view id,
                                    std::string_view vid, RequestAccess& a) {
  auto version = ParseVersion(vid);
  if (!version.ok()) return ErrorResponse(version.status());
  if (a.enforced()) {
    if (Status s = a.CheckType(type, security::Action::kRead); !s.ok()) return ErrorResponse(s);
    auto r = store_->ReadVersion(type, id, *version);
    if (r.ok() && r->deleted && *version > 1) r = store_->ReadVersion(type, id, *version - 1);
    if (!r.ok()) return ErrorResponse(r.status());
    if (Status s = a.CheckRead(*r); !s.ok()) return ErrorResponse(s);
  }
  if (options_.verifier == nullptr) {
    HttpResponse r = ErrorResponse(Status::Unsupported("this server keeps no ledger"));
    r.status = 501;
    return r;
  }
  return options_.verifier->VerifyVersion(type, id, *version);
}

HttpResponse FhirApi::Update(const HttpRequest& req, std::string_view type, std::string_view id,
                             RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kWrite); !s.ok()) return ErrorResponse(s);
  auto parsed = fhir::ParseResource(req.body);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  json::Value resource = std::move(parsed).value();
  if (fhir::ResourceType(resource) != type)
    return ErrorResponse(Status::InvalidArgument("the body is a " +
                                                 std::string(fhir::ResourceType(resource)) +
                                                 ", the URL says " + std::string(type)));
  if (fhir::ResourceId(resource) != id)
    return ErrorResponse(fhir::ErrorAt(StatusCode::kInvalidArgument, std::string(type) + ".id",
                                       "the body's id must equal the id in the URL"));
  if (Status s = CheckReplace(type, id, a); !s.ok()) return ErrorResponse(s);
  auto existing = store_->Read(type, id);
  const bool creates = !existing.ok() || existing->deleted;
  if (Status s = a.CheckWrite(resource, creates); !s.ok()) return ErrorResponse(s);
  store::WriteOp op;
  op.type = std::string(type);
  op.id = std::string(id);
  op.resource = std::move(resource);
  if (std::string_view if_match = req.header("if-match"); !if_match.empty()) {
    auto v = ParseETag(if_match);
    if (!v.ok()) return ErrorResponse(v.status());
    op.if_match = *v;
  }
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  auto out = store_->Commit(std::move(ops));
  if (!out.ok()) return ErrorResponse(out.status());
  const store::WriteOutcome& w = out->front();
  store::StoredResource res{
      std::string(type), std::string(id), w.version, w.last_updated, w.seq, false, w.json};
  HttpResponse r = WithResourceHeaders(JsonResponse(w.created ? 201 : 200, w.json), res);
  if (w.created)
    r.headers.emplace_back("Location", options_.base_url + "/" + std::string(type) + "/" +
                                           std::string(id) + "/_history/" +
                                           std::to_string(w.version));
  if (req.header("prefer").find("return=minimal") != std::string_view::npos) r.body.clear();
  return r;
}

HttpResponse FhirApi::Delete(std::string_view type, std::string_view id, RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kWrite); !s.ok()) return ErrorResponse(s);
  if (Status s = CheckReplace(type, id, a); !s.ok()) return ErrorResponse(s);
  store::WriteOp op;
  op.kind = store::WriteOp::Kind::kDelete;
  op.type = std::string(type);
  op.id = std::string(id);
  std::vector<store::WriteOp> ops;
  ops.push_back(std::move(op));
  auto out = store_->Commit(std::move(ops));
  if (!out.ok()) return ErrorResponse(out.status());
  HttpResponse r;
  r.status = 204;
  if (out->front().existed) r.headers.emplace_back("ETag", ETag(out->front().version));
  return r;
}

HttpResponse FhirApi::History(const HttpRequest& req, std::string_view type, std::string_view id,
                              RequestAccess& a) {
  if (!type.empty()) {
    if (Status s = a.CheckType(type, security::Action::kRead); !s.ok()) return ErrorResponse(s);
  }
  if (id.empty() && !a.ReadsWholeType(type))
    return ErrorResponse(Status::PermissionDenied(
        "type and system history are for clients that may read every resource they name "
        "(service and auditor clients); use search or Patient/$everything"));
  store::HistoryQuery q;
  q.type = std::string(type);
  q.id = std::string(id);
  for (const auto& [k, v] : req.query) {
    if (k == "_since") {
      auto d = ParseFhirDate(v, DateKind::kInstant);
      if (!d.ok()) return ErrorResponse(d.status().WithPrefix("_since"));
      q.since = d->low;
    } else if (k == "_cursor" && id.empty()) {
      // The opaque continuation of a type or system history (next links): a change seq.
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), q.before_seq);
      if (ec != std::errc() || p != v.data() + v.size() || q.before_seq == 0)
        return ErrorResponse(Status::InvalidArgument("_cursor: not a cursor of this server"));
    } else if (k == "_count" || k == "_offset") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size())
        return ErrorResponse(Status::InvalidArgument(k + ": expected a non-negative integer"));
      (k == "_count" ? q.limit : q.offset) = k == "_count" ? std::min(n, fhir::kMaxCount) : n;
    } else if (k != "_format" && k != "_pretty") {
      return ErrorResponse(Status::InvalidArgument("history parameter '" + k +
                                                   "' is not supported (use _since, _count)"));
    }
  }
  if (!id.empty()) {
    auto cur = store_->Read(type, id);
    if (!cur.ok()) return ErrorResponse(cur.status());
    if (a.enforced()) {
      auto shown =
          cur->deleted && cur->version > 1 ? store_->ReadVersion(type, id, cur->version - 1) : cur;
      if (!shown.ok()) return ErrorResponse(shown.status());
      if (Status s = a.CheckRead(*shown); !s.ok()) return ErrorResponse(s);
    }
  }
  auto page = store_->History(q);
  if (!page.ok()) return ErrorResponse(page.status());
  BundleWriter b("history");
  if (q.before_seq == 0) b.SetTotal(page->total);
  std::string self = options_.base_url;
  if (!type.empty()) self += "/" + std::string(type);
  if (!id.empty()) self += "/" + std::string(id);
  self += "/_history";
  auto link = [&](size_t offset) {
    std::string url =
        self + "?_count=" + std::to_string(q.limit) + "&_offset=" + std::to_string(offset);
    for (const auto& [k, v] : req.query)
      if (k == "_since") url += "&_since=" + UrlEncode(v);
    return url;
  };
  // Type and system history pages continue from a cursor (the last version's change
  // seq): concurrent writes then neither shift nor repeat entries, and a page costs only
  // its own length. Instance history pages by offset.
  auto cursor_link = [&](uint64_t before) {
    std::string url =
        self + "?_count=" + std::to_string(q.limit) + "&_cursor=" + std::to_string(before);
    for (const auto& [k, v] : req.query)
      if (k == "_since") url += "&_since=" + UrlEncode(v);
    return url;
  };
  b.AddLink("self", q.before_seq ? cursor_link(q.before_seq) : link(q.offset));
  // With _count=0 (only the total) a next link would name this same page again.
  if (q.limit > 0 && page->more && !page->versions.empty())
    b.AddLink("next",
              id.empty() ? cursor_link(page->versions.back().seq) : link(q.offset + q.limit));
  if (q.offset > 0 && q.before_seq == 0)
    b.AddLink("previous", link(q.offset > q.limit ? q.offset - q.limit : 0));
  for (const auto& v : page->versions) {
    if (!id.empty() && !v.deleted && !a.MayRead(v)) continue;  // an earlier patient's content
    const std::string url = v.type + "/" + v.id;
    b.BeginEntry();
    b.FullUrl(options_.base_url + "/" + url);
    if (!v.deleted) b.Resource(v.json);
    b.Request(v.deleted        ? "DELETE"
              : v.version == 1 ? "POST"
                               : "PUT",
              v.deleted || v.version > 1 ? url : v.type);
    b.Response(v.deleted        ? "204 No Content"
               : v.version == 1 ? "201 Created"
                                : "200 OK",
               "", ETag(v.version), FormatInstant(v.last_updated));
    b.EndEntry();
  }
  return JsonResponse(200, b.Finish());
}

HttpResponse FhirApi::Search(std::string_view type, const Params& params, RequestAccess& a) {
  if (Status s = a.CheckType(type, security::Action::kRead); !s.ok()) return ErrorResponse(s);
  auto query = fhir::ParseSearchQuery(type, params);
  if (!query.ok()) return ErrorResponse(query.status());
  auto ids = store_->Search(*query);
  if (!ids.ok()) return ErrorResponse(ids.status());
  // Filtered before counting and paging, so Bundle.total counts only readable matches. A
  // search pinned to one patient's compartment is decided once for that patient.
  if (!a.ReadsWholeType(type)) {
    const std::string pinned = PinnedPatient(type, params);
    if (pinned.empty() || !a.MayReadCompartment(type, pinned))
      ids = FilterReadable(type, std::move(ids).value(), a);
  }
  if (!ids.ok()) return ErrorResponse(ids.status());
  BundleWriter b("searchset");
  b.SetTotal(ids->size());
  // Links repeat the caller's parameters with a new _offset.
  auto link = [&](size_t offset) {
    std::string url = options_.base_url + "/" + std::string(type) + "?";
    for (const auto& [k, v] : params) {
      if (k == "_offset" || k == "_count") continue;
      url += UrlEncode(k) + "=" + UrlEncode(v) + "&";
    }
    url += "_count=" + std::to_string(query->count) + "&_offset=" + std::to_string(offset);
    return url;
  };
  b.AddLink("self", link(query->offset));
  if (query->summary_count) return JsonResponse(200, b.Finish());
  const size_t begin = std::min(query->offset, ids->size());
  const size_t end = std::min(ids->size(), begin + query->count);
  if (end < ids->size() && query->count > 0) b.AddLink("next", link(end));  // _count=0: total only
  if (begin > 0) b.AddLink("previous", link(begin > query->count ? begin - query->count : 0));

  std::set<std::string> emitted;  // "Type/id" already in the bundle
  std::vector<store::StoredResource> matches;
  for (size_t i = begin; i < end; ++i) {
    auto r = store_->Read(type, (*ids)[i]);
    if (!r.ok() || r->deleted) continue;  // deleted between search and read
    emitted.insert(std::string(type) + "/" + r->id);
    matches.push_back(std::move(r).value());
  }
  for (const auto& r : matches) {
    b.BeginEntry();
    b.FullUrl(options_.base_url + "/" + r.type + "/" + r.id);
    b.Resource(r.json);
    b.SearchMode("match");
    b.EndEntry();
  }
  auto add_include = [&](std::string_view t, std::string_view id) {
    std::string key = std::string(t) + "/" + std::string(id);
    if (emitted.contains(key)) return;
    auto r = store_->Read(t, id);
    if (!r.ok() || r->deleted || !a.MayRead(*r)) return;
    emitted.insert(key);
    b.BeginEntry();
    b.FullUrl(options_.base_url + "/" + key);
    b.Resource(r->json);
    b.SearchMode("include");
    b.EndEntry();
  };
  for (const auto& inc : query->includes) {
    for (const auto& m : matches) {
      auto doc = json::Parse(m.json);
      if (!doc.ok()) continue;
      const fhir::SearchParamDef& indexed = fhir::IndexedParam(*inc.param);
      for (const auto& v : fhir::ExtractIndexValues(*doc)) {
        if (v.param != &indexed) continue;
        const size_t slash = v.value.find('/');
        if (slash == std::string::npos) continue;
        std::string_view t = std::string_view(v.value).substr(0, slash);
        if (!inc.target_type.empty() && t != inc.target_type) continue;
        if (!inc.param->target.empty() && t != inc.param->target) continue;
        add_include(t, std::string_view(v.value).substr(slash + 1));
      }
    }
  }
  for (const auto& rev : query->revincludes) {
    for (const auto& m : matches) {
      auto q = fhir::ParseSearchQuery(rev.source_type,
                                      Params{{std::string(rev.param->name), m.type + "/" + m.id}});
      if (!q.ok()) continue;  // the parameter targets another type
      auto found = store_->Search(*q);
      if (!found.ok()) return ErrorResponse(found.status());
      for (const auto& id : *found) add_include(rev.source_type, id);
    }
  }
  return JsonResponse(200, b.Finish());
}

HttpResponse FhirApi::Everything(std::string_view id, RequestAccess& a) {
  if (Status s = a.CheckType("Patient", security::Action::kRead); !s.ok()) return ErrorResponse(s);
  auto patient = store_->Read("Patient", id);
  if (!patient.ok()) return ErrorResponse(patient.status());
  if (patient->deleted)
    return ErrorResponse(a.enforced()
                             ? HiddenNotFound("Patient", id)
                             : Status::Gone("Patient/" + std::string(id) + " was deleted"));
  if (Status s = a.CheckRead(*patient); !s.ok()) return ErrorResponse(s);
  auto members = store_->Compartment(id);
  if (!members.ok()) return ErrorResponse(members.status());
  std::vector<store::StoredResource> found;
  found.push_back(std::move(patient).value());
  std::set<std::string> seen{"Patient/" + std::string(id)};
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& e : *members) wanted.emplace_back(e.type, e.id);
  // The person's other Patients (other institutions' records), when the MPI linked any;
  // each of them, and each of their records, is decided by the policy on its own.
  std::vector<std::pair<std::string, std::string>> linked_wanted;
  if (options_.linked_patients) {
    for (std::string& other : options_.linked_patients(id)) {
      if (other == id) continue;
      auto p = store_->Read("Patient", other);
      if (!p.ok() || p->deleted || !a.MayRead(*p) || !seen.insert("Patient/" + other).second)
        continue;
      found.push_back(std::move(p).value());
      auto other_members = store_->Compartment(other);
      if (!other_members.ok()) return ErrorResponse(other_members.status());
      for (const auto& e : *other_members) linked_wanted.emplace_back(e.type, e.id);
    }
  }
  // Members of the compartment are readable when the caller may read that type in this
  // patient's compartment (decided once per type); anything else is decided on its own.
  std::map<std::string, bool, std::less<>> member_types;
  auto may_read = [&](const store::StoredResource& r, bool member) {
    if (!member) return a.MayRead(r);
    auto it = member_types.find(r.type);
    if (it == member_types.end())
      it = member_types.emplace(r.type, a.MayReadCompartment(r.type, id)).first;
    return it->second || a.MayRead(r);
  };
  auto add_all = [&](const std::vector<std::pair<std::string, std::string>>& keys, bool member) {
    auto results = store_->ReadMany(keys);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok() || results[i]->deleted || !may_read(*results[i], member)) continue;
      seen.insert(keys[i].first + "/" + keys[i].second);
      found.push_back(std::move(results[i]).value());
    }
  };
  add_all(wanted, /*member=*/true);
  add_all(linked_wanted, /*member=*/false);
  const size_t record_size = found.size();  // the Patient and its compartment: matches
  // Resources the record refers to (practitioners, organizations, medications, ...).
  std::vector<std::string> refs;
  for (const auto& r : found) ScanReferences(r.json, &refs);
  wanted.clear();
  for (const std::string& ref : refs) {
    if (ref.starts_with("Patient/") || !seen.insert(ref).second) continue;
    const size_t slash = ref.find('/');
    wanted.emplace_back(ref.substr(0, slash), ref.substr(slash + 1));
  }
  add_all(wanted, /*member=*/false);
  BundleWriter b("searchset");
  b.SetTotal(found.size());
  b.AddLink("self", options_.base_url + "/Patient/" + std::string(id) + "/$everything");
  for (size_t i = 0; i < found.size(); ++i) {
    const store::StoredResource& r = found[i];
    b.BeginEntry();
    b.FullUrl(options_.base_url + "/" + r.type + "/" + r.id);
    b.Resource(r.json);
    b.SearchMode(i < record_size ? "match" : "include");
    b.EndEntry();
  }
  return JsonResponse(200, b.Finish());
}

HttpResponse FhirApi::Transaction(const HttpRequest& req, RequestAccess& a) {
  auto parsed = fhir::ParseResource(req.body);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  if (fhir::ResourceType(*parsed) != "Bundle")
    return ErrorResponse(
        Status::InvalidArgument("POST to the base takes a batch or transaction Bundle"));
  auto out = ProcessBundleAs(std::move(parsed).value(), /*keep_ids=*/false, a);
  if (!out.ok()) return ErrorResponse(out.status());
  return JsonResponse(out->http_status, std::move(out->response_bundle));
}

}  // namespace medhub::server
