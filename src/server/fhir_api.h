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
#include "security/audit.h"
#include "security/relations.h"
#include "security/token.h"
#include "server/access.h"
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

  // Access control (docs/security.md, "What is enforced"). When `authenticate` is set the
  // policy is on: every request but GET /fhir/metadata needs a principal (401 with
  // WWW-Authenticate from `challenge` otherwise), every path to data asks the policy
  // (`relations` must then be set), and — when `audit` is set — every request, allowed or
  // refused, writes an AuditEvent before its response is sent. Without `authenticate`
  // (in-process imports, pure API tests) everything is allowed and nothing is audited.
  std::function<Result<security::Principal>(const HttpRequest&)> authenticate;
  std::function<std::string(const Status&)> challenge;
  security::RelationCache* relations = nullptr;  // not owned
  security::AuditLog* audit = nullptr;           // not owned
  // Microseconds since the epoch for audit times; NowMicros when empty.
  std::function<int64_t()> clock;
};

// The request header that asks for break-the-glass access; its value is the reason
// (1-512 bytes). Honoured for practitioners only.
inline constexpr char kBreakGlassHeader[] = "x-break-glass";

// What ProcessBundle reports besides the counts. The REST API answers with the response
// Bundle; an importer that reads at most the assigned ids need not have it built.
enum class BundleReply {
  kBundle,  // response_bundle: the batch-response or transaction-response Bundle
  kIds,     // a transaction's entry_ids (a batch's reply is then the counts only)
  kNone,    // the counts only
};

// What a batch or transaction did.
struct BundleOutcome {
  int http_status = 200;
  std::string response_bundle;  // BundleReply::kBundle: a batch- or transaction-response
  // BundleReply::kIds, a transaction: "Type/id\n" of each entry in the order of the
  // entries (the id the server assigned, or the existing resource a conditional create
  // matched), as the response's entry.fullUrl holds it after the base URL.
  std::string entry_ids;
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
  // same Bundle a no-op; `medhub import` uses this. `reply` chooses what the outcome
  // holds besides the counts. Errors: the transaction's failure.
  Result<BundleOutcome> ProcessBundle(json::Value bundle, bool keep_ids,
                                      BundleReply reply = BundleReply::kBundle);

  const FhirApiOptions& options() const { return options_; }

 private:
  using Params = std::vector<std::pair<std::string, std::string>>;
  // Authentication, audit and relation invalidation around HandleAs (fhir_access.cc).
  HttpResponse HandleEnforced(const HttpRequest& req);
  void AfterRequest(const HttpRequest& req, HttpResponse& resp, RequestAccess& a);
  void NotifyBreakGlass(const RequestAccess& a);
  HttpResponse HandleAs(const HttpRequest& req, RequestAccess& a);
  HttpResponse Route(const HttpRequest& req, std::string_view path, RequestAccess& a);
  HttpResponse Create(const HttpRequest& req, std::string_view type, RequestAccess& a);
  HttpResponse Read(std::string_view type, std::string_view id, RequestAccess& a);
  HttpResponse VRead(std::string_view type, std::string_view id, std::string_view vid,
                     RequestAccess& a);
  HttpResponse VerifyVersion(std::string_view type, std::string_view id, std::string_view vid,
                             RequestAccess& a);
  HttpResponse Update(const HttpRequest& req, std::string_view type, std::string_view id,
                      RequestAccess& a);
  HttpResponse Delete(std::string_view type, std::string_view id, RequestAccess& a);
  HttpResponse History(const HttpRequest& req, std::string_view type, std::string_view id,
                       RequestAccess& a);
  HttpResponse Search(std::string_view type, const Params& params, RequestAccess& a);
  // Before an update or delete of type/id: NotFound when a live resource exists that the
  // caller may not read, PermissionDenied when they may read but not write it.
  Status CheckReplace(std::string_view type, std::string_view id, RequestAccess& a);
  // The patient id when `params` restrict a search of `type` to one patient's compartment
  // (a single patient=/subject=Patient/ value on a compartment element), else "".
  static std::string PinnedPatient(std::string_view type, const Params& params);
  // The ids the caller may read, of those a search matched.
  Result<std::vector<std::string>> FilterReadable(std::string_view type,
                                                  std::vector<std::string> ids, RequestAccess& a);
  HttpResponse Everything(std::string_view id, RequestAccess& a);
  HttpResponse Transaction(const HttpRequest& req, RequestAccess& a);
  HttpResponse Capabilities();

  Result<BundleOutcome> ProcessBundleAs(json::Value bundle, bool keep_ids, RequestAccess& a,
                                        BundleReply reply = BundleReply::kBundle);
  Result<BundleOutcome> ProcessTransaction(json::Value bundle, bool keep_ids, RequestAccess& a,
                                           BundleReply reply);
  Result<BundleOutcome> ProcessBatch(json::Value bundle, RequestAccess& a, BundleReply reply);

  store::Store* store_;
  FhirApiOptions options_;
  std::mutex conditional_mu_;  // serializes conditional creates (check, then write)
  std::string capability_json_;
};

}  // namespace medhub::server
