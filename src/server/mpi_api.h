// The master patient index's API at /api/mpi (src/sync/mpi.h), transport-independent:
//
//   GET  /api/mpi/review              uncertain pairs: {"review":[{"a","b","score","fields"}]}
//   POST /api/mpi/link    {"a":"Patient/x","b":"Patient/y"}  → {"person","patients"}
//   POST /api/mpi/unlink  {"patient":"Patient/x"}            → {"person","patients"} (the rest)
//   GET  /api/mpi/patients/{id}       {"person":"Person/..."|null,"patients":[...]}
//
// Errors are OperationOutcomes (400 malformed body, 404 unknown or unlinked Patient).
//
// Access (docs/security.md, "Master patient index"): with `authenticate` set (medhub serve
// always sets it), every request needs a bearer token of an admin of an organization or of
// a service client: no or a bad token → 401 with WWW-Authenticate, another role → 403.
// Without `authenticate` the API is open (in-process use only).
// Thread-safe (Mpi serializes its writes).
#pragma once

#include <functional>

#include "security/token.h"
#include "server/http_server.h"
#include "sync/mpi.h"

namespace medhub::server {

class MpiApi {
 public:
  using Authenticator = std::function<Result<security::Principal>(const HttpRequest&)>;
  explicit MpiApi(sync::Mpi* mpi, Authenticator authenticate = nullptr)
      : mpi_(mpi), authenticate_(std::move(authenticate)) {}
  // Handles a request whose path starts with "/api/mpi".
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Person(std::string_view patient);
  HttpResponse Serve(const HttpRequest& request);
  sync::Mpi* mpi_;
  Authenticator authenticate_;
};

}  // namespace medhub::server
