// How `medhub serve` and `medhub demo` turn on the access policy of the FHIR API: bearer
// tokens checked by the token service, relations from the cache, AuditEvents in the store
// (docs/security.md, "What is enforced").
#pragma once

#include "security/audit.h"
#include "security/relations.h"
#include "server/auth_api.h"
#include "server/fhir_api.h"

namespace medhub::cli {

// `auth`, `relations` and `audit` must outlive the API built with `options`.
inline void EnforcePolicy(server::FhirApiOptions* options, const server::AuthApi* auth,
                          security::RelationCache* relations, security::AuditLog* audit) {
  options->authenticate = [auth](const server::HttpRequest& req) {
    return auth->Authenticate(req);
  };
  options->challenge = [](const Status& s) { return server::BearerChallenge(s); };
  options->relations = relations;
  options->audit = audit;
}

}  // namespace medhub::cli
