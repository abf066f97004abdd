// Bulk import of FHIR data files into the store: Bundles (batch or transaction) and single
// resources as JSON, and NDJSON (one resource per line).
//
// Import keeps the ids the files carry (transaction POST entries are stored under their
// resource id), so importing the same files twice changes nothing. Each Bundle is one
// atomic commit; NDJSON is committed in batches of `ndjson_batch` lines.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/fhir_api.h"

namespace medhub::cli {

struct ImportStats {
  size_t files = 0;
  size_t resources_ok = 0;
  size_t resources_failed = 0;
  uint64_t bytes = 0;
  std::vector<std::string> errors;  // "file[:line]: message", at most a few hundred

  // Adds `other` into this.
  void Merge(const ImportStats& other);
  // The Patient with the most resources in one Bundle, for the demo's hints.
  std::string largest_patient_id;
  size_t largest_patient_resources = 0;
};

class Importer {
 public:
  explicit Importer(server::FhirApi* api, size_t ndjson_batch = 1000)
      : api_(api), ndjson_batch_(ndjson_batch) {}

  // Expands folders (recursively, in name order) into .json and .ndjson files.
  static Result<std::vector<std::string>> ListFiles(const std::vector<std::string>& paths);

  // Imports one file, adding to `stats`. Errors of the file's content are counted in
  // stats; the returned Status is for failures to read the file at all.
  Status ImportFile(const std::string& path, ImportStats* stats);
  // Imports `files` on `threads` worker threads (each file is independent), calling
  // `progress(done, stats_so_far)` from the calling thread as files complete.
  Status ImportFiles(const std::vector<std::string>& files, int threads, ImportStats* stats,
                     const std::function<void(size_t, const ImportStats&)>& progress);
  // Imports the bytes of one JSON document (Bundle or resource) named `origin`.
  void ImportJson(const std::string& origin, std::string_view text, ImportStats* stats);
  void ImportNdjson(const std::string& origin, std::string_view text, ImportStats* stats);

 private:
  server::FhirApi* api_;
  size_t ndjson_batch_;
};

}  // namespace medhub::cli
