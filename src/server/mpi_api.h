// The master patient index's API at /api/mpi (src/sync/mpi.h), transport-independent:
//
//   GET  /api/mpi/review              uncertain pairs: {"review":[{"a","b","score","fields"}]}
//   POST /api/mpi/link    {"a":"Patient/x","b":"Patient/y"}  → {"person","patients"}
//   POST /api/mpi/unlink  {"patient":"Patient/x"}            → {"person","patients"} (the rest)
//   GET  /api/mpi/patients/{id}       {"person":"Person/..."|null,"patients":[...]}
//
// Errors are OperationOutcomes (400 malformed body, 404 unknown or unlinked Patient).
// Thread-safe (Mpi serializes its writes).
#pragma once

#include "server/http_server.h"
#include "sync/mpi.h"

namespace medhub::server {

class MpiApi {
 public:
  explicit MpiApi(sync::Mpi* mpi) : mpi_(mpi) {}
  // Handles a request whose path starts with "/api/mpi".
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Person(std::string_view patient);
  sync::Mpi* mpi_;
};

}  // namespace medhub::server
