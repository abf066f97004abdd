// FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html), asynchronous:
//
//   GET  /fhir/$export | /fhir/Patient/$export | /fhir/Group/{id}/$export
//        [?_type=A,B][&_since=INSTANT][&_outputFormat=application/fhir+ndjson]
//        with `Prefer: respond-async` → 202, Content-Location: <base>/fhir/$export-status/{job}
//   GET  <status URL> → 202 + X-Progress while running; 200 + the manifest JSON
//        (transactionTime, request, requiresAccessToken, output[{type,url,count}], error[]);
//        a failed job → 500 OperationOutcome
//   DELETE <status URL> → 202: the job is cancelled and its files removed; then 404
//   GET  <base>/fhir/$export-file/{job}/{Type}.ndjson → application/fhir+ndjson
//
// The current version of each resource is exported (deleted ones are not), one NDJSON file
// per type, written under DIR/{job}/ by one background thread per job (at most
// `max_jobs` at a time: more → 429). System level: every live resource of the types; Patient
// level: the Patient resources and their compartments; Group level: the same for the Patient
// members of Group/{id}. `_since` keeps resources whose lastUpdated is at or after it.
// Errors are OperationOutcomes: 400 (no Prefer: respond-async, bad _type/_since/
// _outputFormat), 404 (unknown job, group or file), 429 (too many jobs).
//
// Thread-safety: Handle() may be called from any number of threads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "server/http_server.h"
#include "store/store.h"

namespace medhub::server {

struct BulkExportOptions {
  std::string dir;  // where job folders are written (e.g. DATA/exports); emptied at start
  size_t max_jobs = 4;
};

class BulkExportApi {
 public:
  BulkExportApi(store::Store* store, BulkExportOptions options);
  ~BulkExportApi();  // cancels and joins running jobs
  BulkExportApi(const BulkExportApi&) = delete;
  BulkExportApi& operator=(const BulkExportApi&) = delete;

  // True for the paths this API serves (the kick-offs, status and file URLs).
  static bool Matches(std::string_view path);
  // `base` is the server's FHIR base URL (http://host:port/fhir), for the URLs it returns.
  HttpResponse Handle(const HttpRequest& req, const std::string& base);

  struct Job;  // one export (defined in the .cc)

 private:
  HttpResponse KickOff(const HttpRequest& req, const std::string& base, std::string kind,
                       std::string group);
  HttpResponse Status(const std::string& id, const std::string& base, bool cancel);
  HttpResponse File(const std::string& id, const std::string& file);
  void Run(Job* job);

  store::Store* const store_;
  const BulkExportOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // GUARDED_BY(mu_)
};

}  // namespace medhub::server
