// The ledger's HTTP API (docs/formats/ledger.md, "HTTP API"), independent of the transport:
//
//   GET /ledger/head                                the signed tree head
//   GET /ledger/blocks/{height}                     a block with its decoded entries
//   GET /ledger/proof/inclusion?leaf=N[&size=M]     an inclusion proof (M: the head's size)
//   GET /ledger/proof/consistency?first=A[&second=B]  a consistency proof (B: the head's)
//   GET /ledger/evidence                            equivocation evidence (consortium)
//   GET /fhir/{type}/{id}/_history/{vid}/$verify    (through FhirApi's VersionVerifier)
//
// $verify returns a FHIR Parameters resource with everything a client needs to check the
// very bytes it read from /fhir/{type}/{id}/_history/{vid} using the member's public key
// alone: the salt, the commitment, the leaf index, the entry bytes, the inclusion proof and
// the signed tree head. The /ledger answers are JSON (application/json); errors are FHIR
// OperationOutcomes (400 for malformed input, 404 for what does not exist, 503 for a
// version the ledger has not reached yet).
//
// Thread-safety: Handle and VerifyVersion may run concurrently (Ledger and Store are
// thread-safe).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "core/status.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "store/store.h"

namespace medhub::server {

class LedgerApi : public VersionVerifier {
 public:
  // Neither pointer is owned; both must outlive the API.
  LedgerApi(const ledger::Ledger* ledger, store::Store* store) : ledger_(ledger), store_(store) {}

  // Handles a request whose path starts with "/ledger".
  HttpResponse Handle(const HttpRequest& request);
  HttpResponse VerifyVersion(std::string_view type, std::string_view id, uint64_t version) override;
  // A consortium member's evidence log (not owned; null: no evidence, an empty list).
  void set_evidence(const ledger::EvidenceLog* evidence) { evidence_ = evidence; }

 private:
  HttpResponse Head();
  HttpResponse Block(std::string_view height);
  HttpResponse Inclusion(const HttpRequest& request);
  HttpResponse Consistency(const HttpRequest& request);
  HttpResponse Evidence();

  const ledger::Ledger* ledger_;
  store::Store* store_;
  const ledger::EvidenceLog* evidence_ = nullptr;
};

// The /ledger/head document for the ledger's current head.
json::Value HeadJson(const ledger::Ledger& ledger);
// The /ledger/blocks/{height} document. DataLoss if an entry does not decode.
Result<json::Value> BlockJson(const ledger::Block& block);
// The $verify Parameters for a stored version. NotFound when the store has no such version,
// Unavailable when the ledger does not hold it yet.
Result<json::Value> VerifyParameters(const ledger::Ledger& ledger, store::Store* store,
                                     std::string_view type, std::string_view id, uint64_t version);

}  // namespace medhub::server
