// SMART App Launch v1 style scopes (SMART App Launch 1.0.0, "Scopes and Launch Context").
//
// A resource scope is `<context>/<type>.<access>`:
//   context  patient (the resources of the token's patient), user (what the user may see),
//            system (a backend service, no user);
//   type     a FHIR R4 resource type, or * for every type;
//   access   read, write, or * for both.
// e.g. `patient/*.read`, `user/Observation.write`, `system/*.read`, `user/*.*`.
// `offline_access` and `online_access` are accepted too; they grant no resource access.
// Anything else is malformed. A scope string is scope tokens separated by single spaces
// (RFC 6749 §3.3).
//
// Scopes only bound what a token may ask for; the policy (care relation, consent, the
// patient's own compartment) decides each request within that bound.
//
// Thread-safe: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "security/role.h"

namespace medhub::security {

enum class ScopeContext : uint8_t { kPatient, kUser, kSystem };
enum class Action : uint8_t { kRead = 1, kWrite = 2 };

struct Scope {
  enum class Kind : uint8_t { kResource, kOfflineAccess, kOnlineAccess };
  Kind kind = Kind::kResource;
  // Resource scopes only:
  ScopeContext context = ScopeContext::kPatient;
  std::string resource_type;  // a FHIR resource type or "*"
  uint8_t access = 0;         // bits of Action; 3 for "*"

  std::string ToString() const;
  friend bool operator==(const Scope&, const Scope&) = default;
};

// At most this many scope tokens and bytes in one scope string.
inline constexpr size_t kMaxScopes = 64;
inline constexpr size_t kMaxScopeStringBytes = 4096;

// Errors: InvalidArgument naming the malformed scope.
Result<Scope> ParseScope(std::string_view text);
// A space-separated list; "" is the empty list. Errors: InvalidArgument (a malformed scope,
// an empty token from a leading, trailing or doubled space, or too many / too long).
Result<std::vector<Scope>> ParseScopes(std::string_view text);
// The space-separated form, in the given order.
std::string FormatScopes(const std::vector<Scope>& scopes);

// True when a scope of context `context` in `scopes` grants `action` on `resource_type`.
bool Allows(const std::vector<Scope>& scopes, std::string_view resource_type, Action action,
            ScopeContext context);

// The contexts in which `scopes` grant `action` on `resource_type`.
struct ContextSet {
  bool patient = false;
  bool user = false;
  bool system = false;
  bool any() const { return patient || user || system; }
};
ContextSet AllowedContexts(const std::vector<Scope>& scopes, std::string_view resource_type,
                           Action action);

// The largest scope granted by both `a` and `b`, if any: same context and kind, the more
// specific resource type, the common access.
std::optional<Scope> Intersect(const Scope& a, const Scope& b);

// What of `requested` is also granted by `allowed`: every pairwise intersection, without
// duplicates or scopes another result already covers, in the order requested.
std::vector<Scope> Narrow(const std::vector<Scope>& requested, const std::vector<Scope>& allowed);

// The most a role may ever hold (docs/security.md lists them):
//   patient       patient/*.read patient/Consent.write patient/Observation.write offline_access
//   practitioner  user/*.* offline_access
//   admin         user/{Organization,Practitioner,PractitionerRole,Location,Device,Endpoint,
//                 HealthcareService}.* offline_access
//   auditor       user/AuditEvent.read offline_access
//   device        patient/Observation.write patient/Device.read
//   service       system/*.*  (a client is registered with the part it needs)
const std::vector<Scope>& RoleScopes(Role role);

// Narrow(requested, RoleScopes(role)).
std::vector<Scope> NarrowToRole(const std::vector<Scope>& requested, Role role);

}  // namespace medhub::security
