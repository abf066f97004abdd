// `medhub sync add-source|run|status|match` (institution sync and the master patient
// index, src/sync) and the periodic sync loop `medhub serve --sync-every SECONDS` runs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace medhub::cli {

extern const char kSyncUsage[];

// `medhub sync ...` (args exclude "sync"); returns the exit code.
int RunSync(const std::vector<std::string>& args);

// Runs every configured source, then matches the Patients it wrote, every `seconds`
// seconds on a background thread until the returned object is destroyed. Errors are
// logged to stderr and retried at the next round. After each round that wrote a CareTeam,
// EpisodeOfCare, Encounter, PractitionerRole or Consent, `on_relations` (if set) gets the
// local ids of the patients whose relations may have changed, on the loop's thread (the
// server's RelationCache must forget them: the sync writes to the store, not through the API).
class SyncLoop {
 public:
  virtual ~SyncLoop() = default;
};
using RelationsChanged = std::function<void(const std::vector<std::string>& patients)>;
std::unique_ptr<SyncLoop> StartSyncLoop(store::Store* store, uint64_t seconds,
                                        RelationsChanged on_relations = nullptr);

}  // namespace medhub::cli
