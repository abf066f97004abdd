// Institution sources and their checkpoints, kept as small records in the center's store
// (Store::PutRecords, outside the change feed). Layout: docs/formats/sync.md.
//
//   sync/source/<name>      the source's configuration (JSON)
//   sync/checkpoint/<name>  where the next incremental pull starts (JSON)
//
// A source name is 1-24 characters of [a-z0-9]; it prefixes the local ids of everything
// synced from that source ("<name>-<source id>"), so it can never change.
// Thread-safe (the store is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace medhub::sync {

struct SourceConfig {
  std::string name;
  std::string fhir_base;  // e.g. http://127.0.0.1:8081/fhir (no trailing slash)
  // Authentication: a fixed bearer token, or OAuth2 client credentials against the
  // source's token endpoint (fhir_base without "/fhir", plus "/auth/token"). The secret
  // itself is never stored: only the path of the file that holds it.
  std::string token;
  std::string client_id;
  std::string client_secret_file;
  std::string ca_file;  // PEM bundle to trust for an https source ("" = system store)
};

struct Checkpoint {
  // The newest lastUpdated pulled so far (micros since the epoch) and its text as the
  // source wrote it; the next pull asks for `_since=<since_text>` (inclusive).
  int64_t since = 0;
  std::string since_text;  // "" before the first successful run
  // "Type/id/version" of the versions whose lastUpdated equals `since`: the next pull
  // gets them again (since is inclusive) and skips them.
  std::vector<std::string> boundary;
  uint64_t runs = 0;
  uint64_t resources = 0;  // versions applied over all runs
  int64_t last_run = 0;    // micros, end of the last successful run
};

// InvalidArgument unless `name` is 1-24 characters of [a-z0-9].
Status ValidateSourceName(std::string_view name);

// Adds or replaces a source (its checkpoint is kept). Errors: InvalidArgument for a bad
// name, base URL or auth combination.
Status PutSource(store::Store* store, const SourceConfig& source);
// Errors: NotFound, DataLoss (a malformed record).
Result<SourceConfig> GetSource(store::Store* store, std::string_view name);
Result<std::vector<SourceConfig>> ListSources(store::Store* store);

// The checkpoint, or a fresh one when the source was never pulled.
Result<Checkpoint> GetCheckpoint(store::Store* store, std::string_view name);
Status PutCheckpoint(store::Store* store, std::string_view name, const Checkpoint& checkpoint);

}  // namespace medhub::sync
