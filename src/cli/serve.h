// What `medhub serve` and `medhub demo` run once the store and the ledger are open: the
// HTTP(S) server with every API behind it (/fhir, /auth, /api/devices, /api/mpi, $export,
// /ledger), the data-in listeners (MQTT, MLLP), the access policy and the audit trail —
// until SIGINT or SIGTERM. Routing and wiring: serve.cc.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "cli/flags.h"
#include "cli/ingest_services.h"
#include "core/status.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"
#include "security/relations.h"
#include "store/store.h"

namespace medhub::cli {

struct ServeConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  size_t max_body = 16u << 20;
  int threads = 0;
  std::string data;      // the data directory: the token signing key is DATA/security/token.key
  std::string tls_cert;  // PEM files; both set: HTTPS only
  std::string tls_key;
  std::string scheme() const { return tls_cert.empty() ? "http" : "https"; }
  const ledger::EvidenceLog* evidence = nullptr;  // a consortium member's, for /ledger/evidence
  IngestConfig ingest;  // --mqtt, --mllp-port (serve only)
};

// --address, --port, --max-body, --threads, --tls-cert, --tls-key. Errors: InvalidArgument.
Result<ServeConfig> ServeConfigFrom(const Flags& f);

// Blocks SIGINT/SIGTERM in the calling thread (and every thread it starts afterwards) so
// that ServeUntilStopped can sigwait for them. Call before any other thread starts.
sigset_t BlockStopSignals();

// Serves `store` and `ledger` until SIGINT or SIGTERM; `on_ready` runs once the port is
// bound, with the base URL. `shared_relations`, when given, is the policy's relation cache
// (so that a sync loop can invalidate it); otherwise the server keeps its own. Errors: the
// token service, the ingest listeners or the HTTP server could not start.
Status ServeUntilStopped(store::Store* store, const ledger::Ledger* ledger,
                         const ServeConfig& config,
                         const std::function<void(const std::string& url)>& on_ready,
                         security::RelationCache* shared_relations = nullptr);

}  // namespace medhub::cli
