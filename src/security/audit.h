// Audit: one FHIR AuditEvent per request to /fhir, allowed or denied (docs/security.md,
// "Audit").
//
// AuditLog queues AuditEvents and one writer thread commits everything queued so far in one
// store Commit (one atomic, fsynced write per batch): under load the batch grows, so the
// fsync cost is shared by every request in it. Record(..., wait=true) returns only once its
// event is durable (FhirApi uses it for writes and break-the-glass, whose trail must exist
// before the answer); Record(..., wait=false) returns at once, so a read is answered while
// its event is in the batch being written: a crash of the process or the machine within
// that window (one fsync, a few ms) loses those events. Flush() waits for everything
// recorded before it: FhirApi flushes before it serves any AuditEvent, so a reader of the
// audit trail sees every event recorded before the request. The destructor drains the
// queue. docs/security.md ("Audit") and docs/benchmarks.md give the trade-off and costs.
// The ledger writer then adds an AccessLogged entry (SHA-256 of the AuditEvent's stored
// bytes) for every AuditEvent version.
//
// Thread-safe: Record and Flush may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "security/token.h"
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
  // An HL7 v2 message over MLLP (method "MLLP"): its MSH-9 as "ADT^A01" ("" if unparsable).
  std::string hl7_message_type;
};

// What every HTTP exchange's record holds: who (`who` may be null: no valid token), from
// where, what, when and the outcome (`body` is kept, truncated, as the detail of an answer
// >= 400). Callers add what only they know (patients, resources, break-the-glass).
AuditRecord AuditRecordFor(const Principal* who, int64_t time, std::string_view remote_address,
                           std::string_view interaction, std::string_view method,
                           std::string_view target, int http_status, std::string_view body);

// The AuditEvent (FHIR R4) of `record`, with id `id`.
json::Value BuildAuditEvent(const AuditRecord& record, const std::string& id);

class AuditLog {
 public:
  explicit AuditLog(store::Store* store);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues the AuditEvent of `record`; with `wait`, returns once it is durable. Errors
  // (with `wait`): those of Store::Commit for its batch.
  Status Record(const AuditRecord& record, bool wait);
  // Returns once every event queued before the call is durable (or its batch failed).
  Status Flush();

 private:
  void Run();
  Status WaitFor(std::unique_lock<std::mutex>& lock, uint64_t ticket);

  static constexpr size_t kMaxBatch = 1024;
  store::Store* store_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::vector<store::WriteOp> queue_;  // GUARDED_BY(mu_)
  uint64_t queued_ = 0;                // GUARDED_BY(mu_): events ever queued
  uint64_t written_ = 0;               // GUARDED_BY(mu_): events whose batch finished
  Status last_error_;                  // GUARDED_BY(mu_): of the last failed batch
  uint64_t failed_upto_ = 0;           // GUARDED_BY(mu_): events up to here may be lost
  bool stopping_ = false;              // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace medhub::security
