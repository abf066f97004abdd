// Incremental pull of one institution source into the center's store.
//
// A run asks the source for `GET [base]/_history?_count=N&_since=<checkpoint>` and follows
// the Bundle's `next` links (which must stay under the source's base URL) to the last page.
// Each page is localized (transform.h) and committed to the store in one atomic, durable
// Commit. The checkpoint (source.h) is written only after the last page is committed, so
// a crash or error anywhere repeats work on the next run and never skips any.
//
// Ordering and conflicts (docs/formats/sync.md): FHIR R4 history is newest first, so the
// first version of a resource a run sees is its newest; older versions later in the same
// run, and versions not newer than the local copy's source version (meta.source), are
// skipped. A delete is applied only to a live local copy. The versions at the checkpoint's
// boundary instant are remembered by Type/id/version and skipped when `_since` (inclusive)
// returns them again, so equal timestamps are never skipped nor counted twice.
//
// Transport: medhub::HttpClient; Unavailable (refused, timeout), 429 and 5xx are retried
// with exponential backoff; a 401 renews the client-credentials token once. A page that is
// not a FHIR history Bundle fails the run with InvalidArgument naming the URL and problem.
//
// Thread safety: one Syncer per thread; distinct Syncers may share a store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "sync/source.h"

namespace medhub::sync {

struct SyncStats {
  size_t pages = 0;
  size_t fetched = 0;           // history entries received
  size_t total = 0;             // Bundle.total of the first page (0 when the source omits it)
  size_t applied = 0;           // new local versions written (puts)
  size_t deleted = 0;           // local deletes
  size_t skipped_boundary = 0;  // already pulled by the previous run (equal timestamp)
  size_t skipped_older = 0;     // older than what the run or the center already has
  size_t unchanged = 0;         // same content as the local copy
  size_t skipped_audit = 0;     // AuditEvents: audit trails stay with their institution
  size_t retries = 0;
  std::vector<std::string> patients;  // local ids of Patients written by this run
  // Local ids of the patients whose care relations or consents this run may have changed
  // (compartment patients of the old and new content of a CareTeam, EpisodeOfCare,
  // Encounter, PractitionerRole or Consent it wrote): a RelationCache must forget them.
  std::vector<std::string> relation_patients;
};

struct SyncOptions {
  size_t page_size = 1000;
  int max_attempts = 5;  // per request, the first included
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds timeout{30000};  // per request
  // Called after each committed page with the stats so far (for a progress bar).
  std::function<void(const SyncStats&)> progress;
};

class Syncer {
 public:
  Syncer(store::Store* store, SyncOptions options);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  // Pulls what changed at `source` since its checkpoint. Errors: Unavailable (the source
  // could not be reached after every retry), InvalidArgument (a malformed page, a next
  // link outside the base), Unauthenticated/PermissionDenied (the source refused us),
  // the store's errors. On error the checkpoint is unchanged.
  Result<SyncStats> Run(const SourceConfig& source);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medhub::sync
