// Audit: one FHIR AuditEvent per request to /fhir, allowed or denied (docs/security.md,
// "Audit").
//
// AuditLog::Record builds the AuditEvent and commits it to the store before returning, so
// a response is sent only once its audit trail is durable. Each Record is one store
// Commit; the store's group commit merges the commits of concurrent requests into one
// synced write, so concurrent requests share one fsync (docs/benchmarks.md measures the
// cost). The ledger writer then adds an AccessLogged entry (SHA-256 of the AuditEvent's
// stored bytes) for every AuditEvent version.
//
// Thread-safe: Record may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "store/store.h"

namespace medhub::security {

// What one request did, as the server saw it.
struct AuditRecord {
  int64_t time = 0;            // microseconds since the epoch
  std::string who;             // token subject ("" when no valid token)
  std::string role;            // role name ("" when unauthenticated)
  std::string organization;    // the caller's Organization, if any
  std::string client_id;       // OAuth client, if any
  std::string remote_address;  // "ip:port" of the TCP peer
  std::string interaction;     // FHIR restful interaction: read, vread, search-type, create, ...
  std::string method;          // HTTP method
  std::string target;          // the request target (truncated to 1 KiB)
  int http_status = 0;
  std::string outcome_detail;  // why it was denied or failed
  bool break_glass = false;
  std::string break_glass_reason;
  std::vector<std::string> patients;   // patients whose data was touched or asked for
  std::vector<std::string> resources;  // "Type/id" read or written (at most 100 kept)
};

// The AuditEvent (FHIR R4) of `record`, with id `id`.
json::Value BuildAuditEvent(const AuditRecord& record, const std::string& id);

class AuditLog {
 public:
  explicit AuditLog(store::Store* store) : store_(store) {}
  // Commits the AuditEvent of `record` durably. Errors: those of Store::Commit.
  Status Record(const AuditRecord& record);

 private:
  store::Store* store_;
};

}  // namespace medhub::security
