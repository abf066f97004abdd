#include "server/bulk_export_api.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource_types.h"
#include "server/http_util.h"

namespace medhub::server {

namespace fs = std::filesystem;

struct BulkExportApi::Job {
  std::string id;
  std::string kind;  // "system", "patient" or "group"
  std::string group;
  std::string request;
  std::vector<std::string> types;  // empty: all
  int64_t since = std::numeric_limits<int64_t>::min();
  std::string transaction_time;
  std::string dir;
  std::atomic<bool> cancel{false};
  std::mutex mu;
  bool done = false;                                     // GUARDED_BY(mu)
  medhub::Status error;                                  // GUARDED_BY(mu)
  std::string progress = "queued";                       // GUARDED_BY(mu)
  std::vector<std::pair<std::string, uint64_t>> output;  // GUARDED_BY(mu): type, count
  std::thread thread;
};

namespace {

constexpr std::string_view kFhir = "/fhir/";
constexpr std::string_view kStatus = "/fhir/$export-status/";
constexpr std::string_view kFile = "/fhir/$export-file/";

// Writes the NDJSON files of one job, one per type, skipping repeats and filtered lines.
class Sink {
 public:
  Sink(const BulkExportApi::Job* job) : job_(job) {}
  medhub::Status Add(const store::StoredResource& r) {
    if (r.deleted || r.last_updated < job_->since) return medhub::Status::Ok();
    if (!job_->types.empty() &&
        std::find(job_->types.begin(), job_->types.end(), r.type) == job_->types.end()) {
      return medhub::Status::Ok();
    }
    if (!seen_.insert(r.type + "/" + r.id).second) return medhub::Status::Ok();
    auto& [out, count] = files_[r.type];
    if (!out.is_open()) out.open(job_->dir + "/" + r.type + ".ndjson", std::ios::binary);
    out << r.json << '\n';
    ++count;
    if (!out.good()) return medhub::Status::Unavailable("cannot write the export of " + r.type);
    return medhub::Status::Ok();
  }
  std::vector<std::pair<std::string, uint64_t>> Finish() {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (auto& [type, f] : files_) {
      f.first.close();
      out.emplace_back(type, f.second);
    }
    return out;
  }

 private:
  const BulkExportApi::Job* job_;
  std::set<std::string> seen_;
  std::map<std::string, std::pair<std::ofstream, uint64_t>> files_;
};

medhub::Status AddMany(store::Store* store,
                       const std::vector<std::pair<std::string, std::string>>& ids, Sink* sink) {
  for (Result<store::StoredResource>& r : store->ReadMany(ids)) {
    if (r.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(r.status());
    RETURN_IF_ERROR(sink->Add(*r));
  }
  return medhub::Status::Ok();
}

HttpResponse Accepted(std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = 202;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

BulkExportApi::BulkExportApi(store::Store* store, BulkExportOptions options)
    : store_(store), options_(std::move(options)) {
  std::error_code ec;
  fs::remove_all(options_.dir, ec);  // jobs do not survive a restart
}

BulkExportApi::~BulkExportApi() {
  std::lock_guard lock(mu_);
  for (auto& [id, job] : jobs_) {
    job->cancel = true;
    if (job->thread.joinable()) job->thread.join();
  }
}

bool BulkExportApi::Matches(std::string_view path) {
  return path == "/fhir/$export" || path == "/fhir/Patient/$export" ||
         (path.starts_with("/fhir/Group/") && path.ends_with("/$export")) ||
         path.starts_with(kStatus) || path.starts_with(kFile);
}

HttpResponse BulkExportApi::Handle(const HttpRequest& req, const std::string& base) {
  const std::string_view path = req.path;
  if (path.starts_with(kStatus)) {
    if (req.method != "GET" && req.method != "DELETE") {
      return ErrorResponse(medhub::Status::InvalidArgument("use GET or DELETE on a status URL"));
    }
    return Status(std::string(path.substr(kStatus.size())), base, req.method == "DELETE");
  }
  if (path.starts_with(kFile)) {
    const std::string_view rest = path.substr(kFile.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos)
      return ErrorResponse(medhub::Status::NotFound("no such file"));
    return File(std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1)));
  }
  if (req.method != "GET") {
    return ErrorResponse(medhub::Status::InvalidArgument("$export is started with GET"));
  }
  if (path == "/fhir/$export") return KickOff(req, base, "system", "");
  if (path == "/fhir/Patient/$export") return KickOff(req, base, "patient", "");
  const std::string_view group = path.substr(12, path.size() - 12 - 8);  // Group/{id}/$export
  return KickOff(req, base, "group", std::string(group));
}

HttpResponse BulkExportApi::KickOff(const HttpRequest& req, const std::string& base,
                                    std::string kind, std::string group) {
  if (req.header("prefer").find("respond-async") == std::string_view::npos) {
    return ErrorResponse(medhub::Status::InvalidArgument(
        "$export is asynchronous: send the header 'Prefer: respond-async'"));
  }
  auto job = std::make_shared<Job>();
  for (const auto& [name, value] : req.query) {
    if (name == "_type") {
      std::stringstream in(value);
      for (std::string t; std::getline(in, t, ',');) {
        if (!fhir::IsKnownResourceType(t)) {
          return ErrorResponse(
              medhub::Status::InvalidArgument("_type: unknown resource type '" + t + "'"));
        }
        job->types.push_back(t);
      }
    } else if (name == "_since") {
      Result<DateRange> since = ParseFhirDate(value, DateKind::kInstant);
      if (!since.ok()) return ErrorResponse(since.status().WithPrefix("_since"));
      job->since = since->low;
    } else if (name == "_outputFormat") {
      if (value != "application/fhir+ndjson" && value != "application/ndjson" &&
          value != "ndjson") {
        return ErrorResponse(
            medhub::Status::InvalidArgument("_outputFormat: only application/fhir+ndjson"));
      }
    } else {
      return ErrorResponse(
          medhub::Status::InvalidArgument("$export: parameter '" + name + "' is not supported"));
    }
  }
  if (kind == "group") {
    if (!IsValidFhirId(group))
      return ErrorResponse(medhub::Status::InvalidArgument("bad Group id"));
    Result<store::StoredResource> g = store_->Read("Group", group);
    if (!g.ok() || g->deleted)
      return ErrorResponse(medhub::Status::NotFound("Group/" + group + " is not known"));
  }
  job->id = NewId();
  job->kind = std::move(kind);
  job->group = std::move(group);
  job->request = base.substr(0, base.size() - 5) + req.target;
  job->transaction_time = FormatInstant(NowMicros());
  job->dir = options_.dir + "/" + job->id;
  {
    std::lock_guard lock(mu_);
    size_t running = 0;
    for (auto& [id, j] : jobs_) {
      std::lock_guard jl(j->mu);
      running += j->done ? 0 : 1;
    }
    if (running >= options_.max_jobs) {
      return ErrorResponse(
          medhub::Status::ResourceExhausted("too many exports running; retry later"));
    }
    jobs_[job->id] = job;
    job->thread = std::thread([this, raw = job.get()] { Run(raw); });
  }
  return Accepted({{"Content-Location", base + "/$export-status/" + job->id}});
}

void BulkExportApi::Run(Job* job) {
  auto set_progress = [job](std::string p) {
    std::lock_guard lock(job->mu);
    job->progress = std::move(p);
  };
  auto work = [&]() -> medhub::Status {
    std::error_code ec;
    fs::create_directories(job->dir, ec);
    if (ec) return medhub::Status::Unavailable("cannot create " + job->dir + ": " + ec.message());
    Sink sink(job);
    if (job->kind == "system") {
      std::vector<std::string> types = job->types;
      if (types.empty()) {
        for (std::string_view t : fhir::AllResourceTypes()) types.emplace_back(t);
      }
      for (size_t i = 0; i < types.size() && !job->cancel; ++i) {
        set_progress("type " + std::to_string(i + 1) + " of " + std::to_string(types.size()));
        fhir::SearchQuery q;
        q.type = types[i];
        ASSIGN_OR_RETURN(std::vector<std::string> ids, store_->Search(q));
        std::vector<std::pair<std::string, std::string>> batch;
        for (size_t k = 0; k < ids.size() && !job->cancel; ++k) {
          batch.emplace_back(types[i], ids[k]);
          if (batch.size() == 256 || k + 1 == ids.size()) {
            RETURN_IF_ERROR(AddMany(store_, batch, &sink));
            batch.clear();
          }
        }
      }
    } else {
      std::vector<std::string> patients;
      if (job->kind == "patient") {
        fhir::SearchQuery q;
        q.type = "Patient";
        ASSIGN_OR_RETURN(patients, store_->Search(q));
      } else {
        ASSIGN_OR_RETURN(store::StoredResource g, store_->Read("Group", job->group));
        ASSIGN_OR_RETURN(json::Value group, json::Parse(g.json));
        if (const json::Value* members = group.find("member"); members && members->is_array()) {
          for (const json::Value& m : members->items()) {
            const json::Value* entity = m.find("entity");
            const std::string_view ref = entity ? entity->get_string("reference") : "";
            if (ref.starts_with("Patient/")) patients.emplace_back(ref.substr(8));
          }
        }
      }
      for (size_t i = 0; i < patients.size() && !job->cancel; ++i) {
        set_progress("patient " + std::to_string(i + 1) + " of " + std::to_string(patients.size()));
        std::vector<std::pair<std::string, std::string>> ids = {{"Patient", patients[i]}};
        ASSIGN_OR_RETURN(std::vector<store::CompartmentEntry> entries,
                         store_->Compartment(patients[i]));
        for (const store::CompartmentEntry& e : entries) ids.emplace_back(e.type, e.id);
        RETURN_IF_ERROR(AddMany(store_, ids, &sink));
      }
    }
    std::vector<std::pair<std::string, uint64_t>> output = sink.Finish();
    std::lock_guard lock(job->mu);
    job->output = std::move(output);
    return medhub::Status::Ok();
  };
  const medhub::Status s = work();
  std::lock_guard lock(job->mu);
  job->error = s;
  job->done = true;
  job->progress = "done";
}

HttpResponse BulkExportApi::Status(const std::string& id, const std::string& base, bool cancel) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return ErrorResponse(medhub::Status::NotFound("no export job " + id));
    job = it->second;
    if (cancel) jobs_.erase(it);
  }
  if (cancel) {
    job->cancel = true;
    if (job->thread.joinable()) job->thread.join();
    std::error_code ec;
    fs::remove_all(job->dir, ec);
    return Accepted({});
  }
  std::lock_guard lock(job->mu);
  if (!job->done) return Accepted({{"X-Progress", job->progress}, {"Retry-After", "1"}});
  if (!job->error.ok()) return ErrorResponse(job->error.WithPrefix("export failed"));
  std::string body = "{\"transactionTime\":";
  json::AppendQuoted(job->transaction_time, &body);
  body += ",\"request\":";
  json::AppendQuoted(job->request, &body);
  body += ",\"requiresAccessToken\":true,\"output\":[";
  for (size_t i = 0; i < job->output.size(); ++i) {
    const auto& [type, count] = job->output[i];
    body += i ? ",{\"type\":" : "{\"type\":";
    json::AppendQuoted(type, &body);
    body += ",\"url\":";
    json::AppendQuoted(base + "/$export-file/" + id + "/" + type + ".ndjson", &body);
    body += ",\"count\":" + std::to_string(count) + "}";
  }
  body += "],\"error\":[]}";
  return JsonResponse(200, std::move(body), "application/json");
}

HttpResponse BulkExportApi::File(const std::string& id, const std::string& file) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end()) job = it->second;
  }
  bool listed = false;
  if (job != nullptr) {
    std::lock_guard lock(job->mu);
    for (const auto& [type, count] : job->output) listed |= file == type + ".ndjson";
  }
  if (!listed) return ErrorResponse(medhub::Status::NotFound("no export file " + id + "/" + file));
  std::ifstream in(job->dir + "/" + file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof())
    return ErrorResponse(medhub::Status::Unavailable("cannot read " + file));
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/fhir+ndjson");
  r.body = text.str();
  return r;
}

}  // namespace medhub::server
