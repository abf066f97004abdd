// Batch and transaction Bundles (FHIR R4 3.1.0.11).
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/time.h"
#include "core/view_index.h"
#include "fhir/operation_outcome.h"
#include "fhir/resource.h"
#include "fhir/search_query.h"
#include "server/bundle_writer.h"
#include "server/fhir_api.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

Status EntryError(size_t i, std::string_view element, std::string_view problem) {
  return fhir::ErrorAt(StatusCode::kInvalidArgument,
                       "Bundle.entry[" + std::to_string(i) + "]" + std::string(element), problem);
}

// "Type/id" of each entry of a transaction, in one buffer (not a string per entry). An
// entry's ids may be set again (a conditional create that matched); the old text stays
// unused in the buffer.
class EntryIds {
 public:
  explicit EntryIds(size_t entries) : spans_(entries) { text_.reserve(entries * 48); }

  void Set(size_t entry, std::string_view type, std::string_view id) {
    spans_[entry] = {text_.size(), type.size() + 1 + id.size()};
    text_.append(type).append("/").append(id);
  }
  std::string_view Get(size_t entry) const {
    return std::string_view(text_).substr(spans_[entry].first, spans_[entry].second);
  }
  // "Type/id\n" of every entry, in order (BundleOutcome::entry_ids).
  std::string Lines() const {
    std::string out;
    out.reserve(text_.size() + spans_.size());
    for (size_t i = 0; i < spans_.size(); ++i) out.append(Get(i)).push_back('\n');
    return out;
  }

 private:
  std::string text_;
  std::vector<std::pair<size_t, size_t>> spans_;  // offset and size in text_
};

// Replaces references to bundle-local fullUrls by the ids the server assigned. `entry` is
// the entry's index, for the error path.
Status RewriteReferences(json::Value* v, const ViewIndex& urls, const EntryIds& ids,
                         size_t entry) {
  if (v->is_array()) {
    for (json::Value& item : v->items())
      if (item.is_array() || item.is_object())
        RETURN_IF_ERROR(RewriteReferences(&item, urls, ids, entry));
  } else if (v->is_object()) {
    for (auto& [k, child] : v->members()) {
      if (child.is_string() && std::string_view(k) == std::string_view("reference")) {
        const std::string& ref = child.text();
        if (size_t target = urls.Find(ref); target != ViewIndex::kNone) {
          child.assign_string(ids.Get(target));
        } else if (ref.starts_with("urn:uuid:") || ref.starts_with("urn:oid:")) {
          return fhir::ErrorAt(
              StatusCode::kInvalidArgument, "Bundle.entry[" + std::to_string(entry) + "].resource",
              "reference '" + ref.substr(0, 80) + "' matches no fullUrl in the transaction");
        }
      } else if (child.is_array() || child.is_object()) {
        RETURN_IF_ERROR(RewriteReferences(&child, urls, ids, entry));
      }
    }
  }
  return Status::Ok();
}

// Splits "Type/id" or "Type/id/_history/v" or "Type?query"; strips a leading base URL.
struct EntryUrl {
  std::string type, id, query;
};
Result<EntryUrl> ParseEntryUrl(std::string_view url, const std::string& base) {
  if (url.size() > base.size() && url.starts_with(base) && url[base.size()] == '/')
    url.remove_prefix(base.size() + 1);
  if (url.starts_with("/")) url.remove_prefix(1);
  EntryUrl out;
  const size_t qm = url.find('?');
  if (qm != std::string_view::npos) {
    out.query = std::string(url.substr(qm + 1));
    url = url.substr(0, qm);
  }
  const size_t slash = url.find('/');
  out.type = std::string(url.substr(0, slash));
  if (slash != std::string_view::npos) out.id = std::string(url.substr(slash + 1));
  return out;
}

struct Planned {
  std::string_view method;  // the entry's request.method (in the Bundle)
  EntryUrl url;
  std::string_view full_url;  // in the Bundle
  json::Value resource;
  std::optional<uint64_t> if_match;
  std::string_view if_none_exist;  // in the Bundle
  bool skip = false;               // conditional create that matched an existing resource
  std::optional<store::StoredResource> existing;  // what it matched
};

// "Bundle.entry[i]: ", the prefix of a refusal's message.
std::string EntryPrefix(size_t i) { return "Bundle.entry[" + std::to_string(i) + "]: "; }

// Checks an entry's method, url and resource against each other and assigns a POST's id.
Status CheckEntry(size_t i, bool keep_ids, Planned& p) {
  const bool has_resource = p.resource.is_object();
  if (p.method == "POST") {
    if (!has_resource) return EntryError(i, ".resource", "a POST entry needs a resource");
    if (p.url.type != fhir::ResourceType(p.resource) || !p.url.id.empty())
      return EntryError(i, ".request.url", "a POST entry's url must be its resource type");
    std::string id;
    if (keep_ids) id = fhir::ResourceId(p.resource);
    if (id.empty()) {
      id = NewId();
      if (json::Value* old = p.resource.find("id")) {
        old->assign_string(id);  // in place: the new id fits the old one's buffer
      } else {
        p.resource.set("id", json::Value::String(id));
      }
    }
    p.url.id = std::move(id);
  } else if (p.method == "PUT") {
    if (!has_resource) return EntryError(i, ".resource", "a PUT entry needs a resource");
    if (!p.url.query.empty())
      return EntryError(i, ".request.url", "conditional update is not supported");
    if (p.url.type != fhir::ResourceType(p.resource) || !IsValidFhirId(p.url.id))
      return EntryError(i, ".request.url", "a PUT entry's url must be Type/id of its resource");
    if (fhir::ResourceId(p.resource) != p.url.id)
      return EntryError(i, ".resource.id", "must equal the id in request.url");
  } else if (p.method == "DELETE") {
    if (!IsValidFhirId(p.url.id) || !p.url.query.empty())
      return EntryError(i, ".request.url", "a DELETE entry's url must be Type/id");
  } else {
    return EntryError(
        i, ".request.method",
        "'" + std::string(p.method) + "' is not supported in a transaction (POST, PUT, DELETE)");
  }
  return Status::Ok();
}

// Conditional creates are decided before anything is written: a match turns the entry
// into a "200 OK" of the existing resource, and its fullUrl into that resource's id. Takes
// `lock` (FhirApi's conditional_mu_) at the first conditional create; the caller holds it
// until its commit, so that no other create can come between the check and the write.
Status DecideConditionalCreates(store::Store* store, std::unique_lock<std::mutex>& lock,
                                std::vector<Planned>& plan, EntryIds& ids, RequestAccess& a) {
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (p.method != "POST" || p.if_none_exist.empty()) continue;
    if (!lock.owns_lock()) lock.lock();
    std::string_view q = p.if_none_exist;
    if (size_t qm = q.find('?'); qm != std::string_view::npos) q = q.substr(qm + 1);
    const auto params = ParseUrlEncoded(q);
    auto query = fhir::ParseSearchQuery(p.url.type, params);
    if (!query.ok()) return EntryError(i, ".request.ifNoneExist", query.status().message());
    ASSIGN_OR_RETURN(auto matches, store->Search(*query));
    if (matches.size() > 1)
      return Status::FailedPrecondition("Bundle.entry[" + std::to_string(i) +
                                        "].request.ifNoneExist matches several resources");
    if (matches.size() == 1) {
      p.skip = true;
      p.url.id = matches.front();
      ids.Set(i, p.url.type, p.url.id);
      ASSIGN_OR_RETURN(p.existing, store->Read(p.url.type, p.url.id));
      if (!a.MayRead(*p.existing))
        return Status::PermissionDenied("Bundle.entry[" + std::to_string(i) +
                                        "].request.ifNoneExist matches a resource this caller "
                                        "may not read");
    }
  }
  return Status::Ok();
}

// The transaction-response Bundle: per entry its fullUrl and response (status, location,
// etag, lastModified), in the order of the request's entries.
std::string TransactionResponse(std::string_view base_url, const std::vector<Planned>& plan,
                                const EntryIds& ids, const std::vector<size_t>& op_of_entry,
                                const std::vector<store::WriteOutcome>& outcomes) {
  BundleWriter b("transaction-response");
  std::string modified;  // formatted once: the versions of a transaction share their time
  int64_t modified_at = 0;
  std::string url = std::string(base_url) + "/", location, etag;
  const size_t base_size = url.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    url.resize(base_size);
    url.append(ids.Get(i));
    b.BeginEntry();
    b.FullUrl(url);
    uint64_t version = 0;
    if (p.skip) {
      version = p.existing->version;
      modified = FormatInstant(p.existing->last_updated);
      modified_at = p.existing->last_updated;
    } else if (p.method == "DELETE") {
      b.Response("204 No Content", "", "", "");
      b.EndEntry();
      continue;
    } else {
      const store::WriteOutcome& w = outcomes[op_of_entry[i]];
      version = w.version;
      if (modified.empty() || w.last_updated != modified_at) {
        modified = FormatInstant(w.last_updated);
        modified_at = w.last_updated;
      }
    }
    const std::string v = std::to_string(version);
    location.assign(url, base_size).append("/_history/").append(v);
    etag.assign("W/\"").append(v).append("\"");
    const bool created = !p.skip && outcomes[op_of_entry[i]].created;
    b.Response(created ? "201 Created" : "200 OK", location, etag, modified);
    b.EndEntry();
  }
  return b.Finish();
}

// Reads the entries of a transaction into `plan` (checked, POST ids assigned), their
// fullUrls into `urls` and their "Type/id" into `ids`.
Status PlanEntries(json::Value* entries, const std::string& base_url, bool keep_ids,
                   std::vector<Planned>& plan, ViewIndex& urls, EntryIds& ids) {
  const size_t n = entries ? entries->items().size() : 0;
  for (size_t i = 0; i < n; ++i) {
    json::Value& e = entries->items()[i];
    Planned& p = plan.emplace_back();
    const json::Value* request = e.find("request");
    if (request == nullptr) return EntryError(i, ".request", "is required in a transaction");
    p.method = request->get_string("method");
    ASSIGN_OR_RETURN(p.url, ParseEntryUrl(request->get_string("url"), base_url));
    p.full_url = e.get_string("fullUrl");
    if (!p.full_url.empty() && urls.Insert(p.full_url, i) != i)
      return EntryError(i, ".fullUrl",
                        "'" + std::string(p.full_url) + "' appears twice in the transaction");
    if (json::Value* r = e.find("resource")) p.resource = std::move(*r);
    p.if_none_exist = request->get_string("ifNoneExist");
    if (std::string_view m = request->get_string("ifMatch"); !m.empty()) {
      ASSIGN_OR_RETURN(p.if_match, ParseETag(m));
    }
    RETURN_IF_ERROR(CheckEntry(i, keep_ids, p));
    ids.Set(i, p.url.type, p.url.id);
  }
  return Status::Ok();
}

}  // namespace

Result<BundleOutcome> FhirApi::ProcessBundle(json::Value bundle, bool keep_ids, BundleReply reply) {
  RequestAccess open;
  return ProcessBundleAs(std::move(bundle), keep_ids, open, reply);
}

Result<BundleOutcome> FhirApi::ProcessBundleAs(json::Value bundle, bool keep_ids, RequestAccess& a,
                                               BundleReply reply) {
  if (fhir::ResourceType(bundle) != "Bundle") return Status::InvalidArgument("expected a Bundle");
  const std::string_view type = bundle.get_string("type");
  if (type == "transaction") return ProcessTransaction(std::move(bundle), keep_ids, a, reply);
  if (type == "batch") return ProcessBatch(std::move(bundle), a, reply);
  return fhir::ErrorAt(StatusCode::kInvalidArgument, "Bundle.type",
                       "expected 'batch' or 'transaction', got '" + std::string(type) + "'");
}

Result<BundleOutcome> FhirApi::ProcessTransaction(json::Value bundle, bool keep_ids,
                                                  RequestAccess& a, BundleReply reply) {
  json::Value* entries = bundle.find("entry");
  const size_t n = entries ? entries->items().size() : 0;
  std::vector<Planned> plan;
  plan.reserve(n);
  // fullUrl -> its entry: views into `bundle`, which lives until the end of this function
  // (only the entries' resources are moved out of it).
  ViewIndex urls(n);
  EntryIds ids(n);
  RETURN_IF_ERROR(PlanEntries(entries, options_.base_url, keep_ids, plan, urls, ids));
  std::unique_lock lock(conditional_mu_, std::defer_lock);  // held until the commit
  RETURN_IF_ERROR(DecideConditionalCreates(store_, lock, plan, ids, a));
  std::vector<store::WriteOp> ops;
  ops.reserve(plan.size());
  std::vector<size_t> op_of_entry(plan.size(), SIZE_MAX);
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (p.skip) continue;
    store::WriteOp& op = ops.emplace_back();
    op.type = std::move(p.url.type);  // ids holds the entry's "Type/id" from here on
    op.id = std::move(p.url.id);
    op.if_match = p.if_match;
    op.want_json = false;  // the response carries no resource bodies
    if (p.method == "DELETE") {
      op.kind = store::WriteOp::Kind::kDelete;
    } else {
      RETURN_IF_ERROR(RewriteReferences(&p.resource, urls, ids, i));
      op.resource = std::move(p.resource);
    }
    // Every entry is decided by the policy before anything is written: one refusal fails
    // the whole transaction.
    if (op.type == "AuditEvent" && p.method != "POST")
      return Status::PermissionDenied(EntryPrefix(i) + "AuditEvents cannot be updated or deleted");
    if (Status s = a.CheckType(op.type, security::Action::kWrite); !s.ok())
      return s.WithPrefix(EntryPrefix(i));
    if (p.method != "POST") {
      if (Status s = CheckReplace(op.type, op.id, a); !s.ok()) return s.WithPrefix(EntryPrefix(i));
    }
    if (p.method != "DELETE") {
      bool creates = p.method == "POST";
      if (!creates) {
        auto existing = store_->Read(op.type, op.id);
        creates = !existing.ok() || existing->deleted;
      }
      if (Status s = a.CheckWrite(op.resource, creates); !s.ok())
        return s.WithPrefix(EntryPrefix(i));
    }
    op_of_entry[i] = ops.size() - 1;
  }
  ASSIGN_OR_RETURN(std::vector<store::WriteOutcome> outcomes, store_->Commit(std::move(ops)));
  BundleOutcome result;
  result.entries = plan.size();
  if (reply == BundleReply::kBundle) {
    result.response_bundle =
        TransactionResponse(options_.base_url, plan, ids, op_of_entry, outcomes);
  } else if (reply == BundleReply::kIds) {
    result.entry_ids = ids.Lines();
  }
  return result;
}

Result<BundleOutcome> FhirApi::ProcessBatch(json::Value bundle, RequestAccess& a,
                                            BundleReply reply) {
  BundleOutcome result;
  BundleWriter b("batch-response");
  json::Value* entries = bundle.find("entry");
  const size_t n = entries ? entries->items().size() : 0;
  result.entries = n;
  for (size_t i = 0; i < n; ++i) {
    json::Value& e = entries->items()[i];
    HttpResponse r;
    const json::Value* request = e.find("request");
    if (request == nullptr) {
      r = ErrorResponse(EntryError(i, ".request", "is required in a batch"));
    } else {
      // Each entry is an independent interaction, routed like a request of its own.
      HttpRequest sub;
      sub.method = std::string(request->get_string("method"));
      std::string url(request->get_string("url"));
      if (url.starts_with(options_.base_url + "/")) url = url.substr(options_.base_url.size() + 1);
      if (url.starts_with("/")) url = url.substr(1);
      sub.SetTarget("/fhir/" + url);  // as the server parses a request's target
      if (const json::Value* res = e.find("resource")) {
        sub.body = json::Serialize(*res);
        sub.headers.emplace_back("content-type", "application/fhir+json");
      }
      if (auto v = request->get_string("ifMatch"); !v.empty())
        sub.headers.emplace_back("if-match", std::string(v));
      if (auto v = request->get_string("ifNoneExist"); !v.empty())
        sub.headers.emplace_back("if-none-exist", std::string(v));
      // The entry runs with the caller's access (and break-the-glass reason); the request's
      // one AuditEvent covers every entry.
      r = HandleAs(sub, a);
    }
    if (r.status >= 400) ++result.failed;
    std::string location, etag, modified;
    for (const auto& [k, v] : r.headers) {
      if (k == "Location") location = v;
      if (k == "ETag") etag = v;
      if (k == "Last-Modified") modified = v;
    }
    b.BeginEntry();
    if (r.status < 300 && !r.body.empty() && request && request->get_string("method") != "DELETE") {
      b.Resource(r.body);
      b.Response(StatusLine(r.status), location, etag, modified);
    } else if (r.status >= 400) {
      b.Response(StatusLine(r.status), "", "", "", r.body);
    } else {
      b.Response(StatusLine(r.status), location, etag, modified);
    }
    b.EndEntry();
  }
  if (reply == BundleReply::kBundle) result.response_bundle = b.Finish();
  return result;
}

}  // namespace medhub::server
