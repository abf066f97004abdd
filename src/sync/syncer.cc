#include "sync/syncer.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "core/http_client.h"
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "security/relations.h"
#include "sync/transform.h"

namespace medhub::sync {
namespace {

// One history entry, checked and reduced to what the sync needs.
struct Entry {
  std::string type, id;
  uint64_t version = 0;
  int64_t last_updated = 0;
  std::string last_updated_text;
  bool deleted = false;
  json::Value resource;  // puts only
  std::string Key() const { return type + "/" + id + "/" + std::to_string(version); }
};

Result<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0)
    return Status::InvalidArgument("bad version '" + std::string(s.substr(0, 20)) + "'");
  return v;
}

Status Instant(std::string_view text, Entry* e) {
  auto d = ParseFhirDate(text, DateKind::kInstant);
  if (!d.ok()) return d.status().WithPrefix("lastUpdated");
  e->last_updated = d->low;
  e->last_updated_text = std::string(text);
  return Status::Ok();
}

Result<Entry> ParsePut(json::Value resource) {
  Entry e;
  RETURN_IF_ERROR(fhir::ValidateResource(resource));
  e.type = fhir::ResourceType(resource);
  e.id = fhir::ResourceId(resource);
  const json::Value* meta = resource.find("meta");
  if (e.id.empty() || meta == nullptr) return Status::InvalidArgument("resource without id/meta");
  ASSIGN_OR_RETURN(e.version, ParseUint(meta->get_string("versionId")));
  RETURN_IF_ERROR(Instant(meta->get_string("lastUpdated"), &e));
  e.resource = std::move(resource);
  return e;
}

Result<Entry> ParseDelete(const json::Value& entry) {
  Entry e;
  e.deleted = true;
  const json::Value* req = entry.find("request");
  const json::Value* resp = entry.find("response");
  if (req == nullptr || resp == nullptr || req->get_string("method") != "DELETE")
    return Status::InvalidArgument("entry has neither a resource nor a DELETE request");
  auto ref = fhir::ParseReference(req->get_string("url"));
  if (!ref.ok() || ref->kind != fhir::Reference::Kind::kRelative)
    return Status::InvalidArgument("DELETE entry without a Type/id url");
  e.type = ref->type;
  e.id = ref->id;
  std::string_view etag = resp->get_string("etag");  // W/"3"
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"')
    return Status::InvalidArgument("DELETE entry without an etag");
  ASSIGN_OR_RETURN(e.version, ParseUint(etag.substr(1, etag.size() - 2)));
  RETURN_IF_ERROR(Instant(resp->get_string("lastModified"), &e));
  return e;
}

// The entries and the next link of a history page. Errors: InvalidArgument.
Status ParsePage(std::string_view body, std::vector<Entry>* entries, std::string* next,
                 size_t* total) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.status().WithPrefix("not JSON");
  if (!doc->is_object() || doc->get_string("resourceType") != "Bundle" ||
      doc->get_string("type") != "history")
    return Status::InvalidArgument("not a FHIR history Bundle");
  if (const json::Value* t = doc->find("total"); t && t->as_int()) *total = *t->as_int();
  next->clear();
  if (const json::Value* links = doc->find("link"); links && links->is_array())
    for (const json::Value& l : links->items())
      if (l.get_string("relation") == "next") *next = l.get_string("url");
  json::Value* items = doc->find("entry");
  if (items == nullptr) return Status::Ok();
  if (!items->is_array()) return Status::InvalidArgument("Bundle.entry is not an array");
  for (size_t i = 0; i < items->items().size(); ++i) {
    json::Value& item = items->items()[i];
    json::Value* res = item.is_object() ? item.find("resource") : nullptr;
    auto e = res ? ParsePut(std::move(*res)) : ParseDelete(item);
    if (!e.ok()) return e.status().WithPrefix("entry " + std::to_string(i));
    entries->push_back(std::move(e).value());
  }
  return Status::Ok();
}

Result<std::string> ReadSecret(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read the client secret file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return Status::InvalidArgument("the client secret file " + path + " is empty");
  return s;
}

}  // namespace

struct Syncer::Impl {
  store::Store* store;
  SyncOptions options;
  HttpClient http;
  SourceConfig source;
  std::string bearer;
  std::chrono::steady_clock::time_point bearer_expiry;
  SyncStats stats;
  std::unordered_set<std::string> seen;  // "Type/id" met by this run
  std::unordered_set<std::string> boundary;
  std::atomic<size_t> retries{0};  // by the fetcher thread

  // Pages travel from the fetcher thread to Run() through `queue`.
  struct Page {
    Status status;
    std::vector<Entry> entries;
    std::string next;
    size_t total = 0;
    bool last = false;
  };
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Page> queue;  // GUARDED_BY(queue_mu)
  bool cancel = false;     // GUARDED_BY(queue_mu)

  void Fetch(std::string url);
  Result<Page> NextPage();

  Result<HttpClientResponse> SendWithRetry(HttpClientRequest req);
  Status Authenticate();
  Result<std::string> FetchPage(const std::string& url);
  Status ApplyPage(std::vector<Entry> entries);
  void NoteRelationPatients(const std::string& local_json);
  void NoteRelationPatients(const json::Value& resource);
  Result<SyncStats> Run(const SourceConfig& src);
};

Result<HttpClientResponse> Syncer::Impl::SendWithRetry(HttpClientRequest req) {
  req.timeout = options.timeout;
  auto backoff = options.initial_backoff;
  Status last;
  for (int attempt = 1;; ++attempt) {
    auto r = http.Send(req);
    if (r.ok() && r->status != 429 && r->status < 500) return r;
    last = r.ok() ? Status::Unavailable("HTTP " + std::to_string(r->status)) : r.status();
    if (r.ok() || r.status().code() == StatusCode::kUnavailable) {
      if (attempt >= options.max_attempts) break;
      ++retries;
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      continue;
    }
    return r.status();  // a malformed URL: retrying cannot help
  }
  return Status::Unavailable("source " + source.name + ": " + req.method + " " + req.url +
                             " failed after " + std::to_string(options.max_attempts) +
                             " attempts: " + last.message());
}

Status Syncer::Impl::Authenticate() {
  if (source.client_id.empty()) {
    bearer = source.token;
    bearer_expiry = std::chrono::steady_clock::time_point::max();
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::string secret, ReadSecret(source.client_secret_file));
  std::string root = source.fhir_base;
  if (root.ends_with("/fhir")) root.resize(root.size() - 5);
  HttpClientRequest req;
  req.method = "POST";
  req.url = root + "/auth/token";
  req.ca_file = source.ca_file;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "grant_type=client_credentials&client_id=" + UrlEncode(source.client_id) +
             "&client_secret=" + UrlEncode(secret);
  ASSIGN_OR_RETURN(HttpClientResponse r, SendWithRetry(std::move(req)));
  auto doc = json::Parse(r.body);
  if (r.status != 200 || !doc.ok() || doc->get_string("access_token").empty())
    return Status::Unauthenticated("source " + source.name + ": the token endpoint " + root +
                                   "/auth/token refused client '" + source.client_id + "' (HTTP " +
                                   std::to_string(r.status) + ")");
  bearer = doc->get_string("access_token");
  const json::Value* ttl = doc->find("expires_in");
  const int64_t secs = ttl && ttl->as_int() ? *ttl->as_int() : 300;
  bearer_expiry =
      std::chrono::steady_clock::now() + std::chrono::seconds(std::max<int64_t>(secs - 60, 1));
  return Status::Ok();
}

Result<std::string> Syncer::Impl::FetchPage(const std::string& url) {
  for (int auth_round = 0;; ++auth_round) {
    if (std::chrono::steady_clock::now() >= bearer_expiry) RETURN_IF_ERROR(Authenticate());
    HttpClientRequest req;
    req.url = url;
    req.ca_file = source.ca_file;
    req.headers = {{"Accept", "application/fhir+json"}};
    if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
    ASSIGN_OR_RETURN(HttpClientResponse r, SendWithRetry(std::move(req)));
    if (r.status == 200) return std::move(r.body);
    if (r.status == 401 && auth_round == 0 && !source.client_id.empty()) {
      bearer_expiry = {};  // renew the token once
      continue;
    }
    const std::string what = "source " + source.name + ": GET " + url + " answered HTTP " +
                             std::to_string(r.status) + ": " + r.body.substr(0, 200);
    if (r.status == 401) return Status::Unauthenticated(what);
    if (r.status == 403) return Status::PermissionDenied(what);
    return Status::InvalidArgument(what);
  }
}

// Whether `e` is newer than the center's copy `local` (docs/formats/sync.md, "Conflicts"):
// a put when the live copy's source version is older or there is none, a delete when
// there is a live copy.
static Result<bool> IsNewer(const Entry& e, const Result<store::StoredResource>& local) {
  if (!local.ok() && local.status().code() != StatusCode::kNotFound) return local.status();
  const bool live = local.ok() && !local->deleted;
  if (!live) return !e.deleted;
  auto doc = json::Parse(local->json);
  const uint64_t local_version = doc.ok() ? SourceVersionOf(*doc) : 0;
  return local_version < e.version;
}

// Records the (local) compartment patients of a relations-bearing resource: the center's
// stored copy, or the source's content once Localize() has rewritten its references.
void Syncer::Impl::NoteRelationPatients(const std::string& local_json) {
  auto doc = json::Parse(local_json);
  if (doc.ok()) NoteRelationPatients(*doc);
}
void Syncer::Impl::NoteRelationPatients(const json::Value& resource) {
  for (const std::string& p : security::FactsOf(resource).patients)
    stats.relation_patients.push_back(p);
}

Status Syncer::Impl::ApplyPage(std::vector<Entry> entries) {
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<Entry*> wanted;
  for (Entry& e : entries) {
    ++stats.fetched;
    if (e.type == "AuditEvent") {  // the source's own audit trail (docs/formats/sync.md)
      ++stats.skipped_audit;
      continue;
    }
    if (boundary.contains(e.Key())) {
      ++stats.skipped_boundary;
      seen.insert(e.type + "/" + e.id);
      continue;
    }
    if (!seen.insert(e.type + "/" + e.id).second) {
      ++stats.skipped_older;
      continue;
    }
    keys.emplace_back(e.type, LocalId(source.name, e.id));
    wanted.push_back(&e);
  }
  auto locals = store->ReadMany(keys);
  std::vector<store::WriteOp> ops;
  for (size_t i = 0; i < wanted.size(); ++i) {
    Entry& e = *wanted[i];
    ASSIGN_OR_RETURN(bool newer, IsNewer(e, locals[i]));
    if (!newer) {
      ++stats.skipped_older;
      continue;
    }
    const bool relations = security::AffectsRelations(e.type);
    if (relations && locals[i].ok() && !locals[i]->deleted) NoteRelationPatients(locals[i]->json);
    store::WriteOp op;
    op.kind = e.deleted ? store::WriteOp::Kind::kDelete : store::WriteOp::Kind::kPut;
    op.type = e.type;
    op.id = keys[i].second;
    if (!e.deleted) {
      Localize(&e.resource, source.name, source.fhir_base, e.version);
      if (relations) NoteRelationPatients(e.resource);
      op.resource = std::move(e.resource);
    }
    ops.push_back(std::move(op));
  }
  if (ops.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<store::WriteOutcome> out, store->Commit(ops));
  for (size_t i = 0; i < out.size(); ++i) {
    if (ops[i].kind == store::WriteOp::Kind::kDelete) {
      ++stats.deleted;
    } else if (out[i].unchanged) {
      ++stats.unchanged;
    } else {
      ++stats.applied;
      if (ops[i].type == "Patient") stats.patients.push_back(ops[i].id);
    }
  }
  return Status::Ok();
}

// Fetches and parses pages on its own thread, at most two ahead of the store, so that the
// source builds and sends the next page while the center commits this one.
void Syncer::Impl::Fetch(std::string url) {
  while (!url.empty()) {
    Page page;
    auto body = FetchPage(url);
    if (!body.ok()) {
      page.status = body.status();
    } else if (Status s = ParsePage(*body, &page.entries, &page.next, &page.total); !s.ok()) {
      page.status = Status::InvalidArgument(
          "source " + source.name + " sent a malformed history page (" + url + "): " + s.message());
    } else if (!page.next.empty() && !page.next.starts_with(source.fhir_base + "/")) {
      page.status = Status::InvalidArgument("source " + source.name + ": next link " +
                                            page.next.substr(0, 200) +
                                            " leaves the source's base " + source.fhir_base);
    }
    url = page.status.ok() ? page.next : "";
    page.last = url.empty();
    std::unique_lock lock(queue_mu);
    queue_cv.wait(lock, [&] { return queue.size() < 2 || cancel; });
    if (cancel) return;
    queue.push_back(std::move(page));
    queue_cv.notify_all();
  }
}

Result<Syncer::Impl::Page> Syncer::Impl::NextPage() {
  std::unique_lock lock(queue_mu);
  queue_cv.wait(lock, [&] { return !queue.empty(); });
  Page page = std::move(queue.front());
  queue.pop_front();
  queue_cv.notify_all();
  if (!page.status.ok()) return page.status;
  return page;
}

// Moves the checkpoint candidate to the newest instant of `entries`.
static void AdvanceCheckpoint(const std::vector<Entry>& entries, Checkpoint* cp,
                              std::unordered_set<std::string>* at_boundary) {
  for (const Entry& e : entries) {
    if (e.last_updated > cp->since) {
      cp->since = e.last_updated;
      cp->since_text = e.last_updated_text;
      cp->boundary.clear();
      at_boundary->clear();
    }
    if (e.last_updated == cp->since && at_boundary->insert(e.Key()).second)
      cp->boundary.push_back(e.Key());
  }
}

Result<SyncStats> Syncer::Impl::Run(const SourceConfig& src) {
  source = src;
  stats = {};
  seen.clear();
  bearer_expiry = {};
  retries = 0;
  cancel = false;
  queue.clear();
  ASSIGN_OR_RETURN(Checkpoint cp, GetCheckpoint(store, source.name));
  boundary = {cp.boundary.begin(), cp.boundary.end()};
  Checkpoint next_cp = cp;
  std::unordered_set<std::string> at_boundary = boundary;
  std::string url = source.fhir_base + "/_history?_count=" + std::to_string(options.page_size);
  if (!cp.since_text.empty()) url += "&_since=" + UrlEncode(cp.since_text);
  std::thread fetcher([this, url] { Fetch(url); });
  Status status;
  for (bool last = false; !last && status.ok();) {
    auto page = NextPage();
    if (!page.ok()) {
      status = page.status();
      break;
    }
    last = page->last;
    if (stats.pages++ == 0) stats.total = page->total;
    AdvanceCheckpoint(page->entries, &next_cp, &at_boundary);
    status = ApplyPage(std::move(page->entries));
    stats.retries = retries;
    if (status.ok() && options.progress) options.progress(stats);
  }
  {
    std::lock_guard lock(queue_mu);
    cancel = true;
    queue_cv.notify_all();
  }
  fetcher.join();
  stats.retries = retries;
  RETURN_IF_ERROR(status);
  // Only now, after every page is durable, does the checkpoint move.
  next_cp.runs = cp.runs + 1;
  next_cp.resources = cp.resources + stats.applied + stats.deleted;
  next_cp.last_run = NowMicros();
  RETURN_IF_ERROR(PutCheckpoint(store, source.name, next_cp));
  return stats;
}

Syncer::Syncer(store::Store* store, SyncOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->options = std::move(options);
}
Syncer::~Syncer() = default;

Result<SyncStats> Syncer::Run(const SourceConfig& source) { return impl_->Run(source); }

}  // namespace medhub::sync
