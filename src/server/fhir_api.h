// The FHIR R4 REST API at /fhir, independent of the transport: it maps an HttpRequest to
// an HttpResponse using the store. Interactions: capabilities, create (conditional),
// read, vread, update (update-as-create, If-Match), delete, history (instance, type,
// system), search (GET and POST _search) with paging, _sort, _include, _revinclude,
// batch and transaction Bundles, Patient/$everything, and [type]/[id]/_history/[vid]/$verify
// when a VersionVerifier (the ledger, ledger_api.h) is configured.
//
// Thread-safe: requests may be handled concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "server/http_server.h"
#include "store/store.h"

namespace medhub::server {

// Answers GET [type]/[id]/_history/[vid]/$verify: the proof that a stored version is the
// one committed to the ledger. Implemented by LedgerApi (ledger_api.h), so that FhirApi
// does not depend on a concrete ledger. Must be thread-safe.
class VersionVerifier {
 public:
  virtual ~VersionVerifier() = default;
  // `type` is a known resource type and `id` a valid id; `version` >= 1.
  virtual HttpResponse VerifyVersion(std::string_view type, std::string_view id,
                                     uint64_t version) = 0;
};

struct FhirApiOptions {
  // The public base of the API, used in Location headers, fullUrls and paging links.
  std::string base_url = "http://127.0.0.1:8080/fhir";
  // Not owned; must outlive the API. Without one, $verify answers 501.
  VersionVerifier* verifier = nullptr;
  // The Patients the master patient index links to a Patient (src/sync/mpi.h), so that
  // Patient/$everything spans every institution's record of the person. Unset: none.
  // Must be thread-safe.
  std::function<std::vector<std::string>(std::string_view patient_id)> linked_patients;
};

// What a batch or transaction did.
struct BundleOutcome {
  int http_status = 200;
  std::string response_bundle;  // a batch-response or transaction-response
  size_t entries = 0;
  size_t failed = 0;  // batch entries that failed (a failed transaction is an error)
};

class FhirApi {
 public:
  FhirApi(store::Store* store, FhirApiOptions options);

  // Handles a request whose path starts with "/fhir".
  HttpResponse Handle(const HttpRequest& request);

  // Processes a batch or transaction Bundle. With `keep_ids`, POST entries whose resource
  // has a valid id are stored under that id (as an update), which makes re-importing the
  // same Bundle a no-op; `medhub import` uses this. Errors: the transaction's failure.
  Result<BundleOutcome> ProcessBundle(json::Value bundle, bool keep_ids);

  const FhirApiOptions& options() const { return options_; }

 private:
  HttpResponse Route(const HttpRequest& req, std::string_view path);
  HttpResponse Create(const HttpRequest& req, std::string_view type);
  HttpResponse Read(std::string_view type, std::string_view id);
  HttpResponse VRead(std::string_view type, std::string_view id, std::string_view vid);
  HttpResponse VerifyVersion(std::string_view type, std::string_view id, std::string_view vid);
  HttpResponse Update(const HttpRequest& req, std::string_view type, std::string_view id);
  HttpResponse Delete(std::string_view type, std::string_view id);
  HttpResponse History(const HttpRequest& req, std::string_view type, std::string_view id);
  HttpResponse Search(const HttpRequest& req, std::string_view type,
                      const std::vector<std::pair<std::string, std::string>>& params);
  HttpResponse Everything(std::string_view id);
  HttpResponse Transaction(const HttpRequest& req);
  HttpResponse Capabilities();

  Result<BundleOutcome> ProcessTransaction(json::Value bundle, bool keep_ids);
  Result<BundleOutcome> ProcessBatch(json::Value bundle);

  store::Store* store_;
  FhirApiOptions options_;
  std::mutex conditional_mu_;  // serializes conditional creates (check, then write)
  std::string capability_json_;
};

}  // namespace medhub::server
