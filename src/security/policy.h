// The access policy: may this principal perform this action on this resource?
//
// Pure decisions (no I/O): the caller gives the principal, what it wants to do, the facts
// of the resource (its type, the patients whose compartment holds it, the organizations it
// names) and a RelationLookup that answers "does this organization care for this patient,
// or hold the patient's consent?" (RelationCache is the store-backed one). docs/security.md
// ("Policy rules") states the rules; in short:
//
//   every role     the token's SMART scopes must grant the action on the type (checked
//                  first; a refusal is kScope). AuditEvents are never written through the
//                  API by anyone; they are read by auditors, by a patient about themselves,
//                  and by services whose system scopes name AuditEvent.
//   patient        resources of their own compartment; shared resources (those in no
//                  patient's compartment: Organization, Practitioner, Medication, ...) read.
//   practitioner   compartment resources of patients their Organization cares for (care
//                  relation) or whose active Consent permits it; shared resources read and
//                  written; any patient with break-the-glass (allowed, flagged); creating
//                  a new Patient, and writing an Encounter, EpisodeOfCare or CareTeam at
//                  their own Organization (an admission opens the care relation).
//   admin          shared resources: read all, write only those that name their
//                  Organization (or are it); compartment resources like a practitioner but
//                  without break-the-glass (scopes normally exclude them anyway).
//   auditor        AuditEvents only.
//   device         create/update Observations whose only patient is the one it is bound
//                  to; read its own Device.
//   service        whatever its system scopes grant, on every patient (sync, back-end jobs).
//
// A resource in several compartments is allowed when any of its patients is allowed (FHIR
// compartment semantics); a write must be allowed for the new content and for the content
// it replaces. Thread-safe: pure functions over their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "security/scope.h"
#include "security/token.h"

namespace medhub::security {

// Answers relation questions for the policy. Implementations must be thread-safe.
class RelationLookup {
 public:
  virtual ~RelationLookup() = default;
  // True when `organization` has an active care relation with `patient` (CareTeam,
  // EpisodeOfCare or Encounter at that organization).
  virtual bool HasCareRelation(std::string_view patient, std::string_view organization) = 0;
  // True when `patient` has an active Consent permitting `organization`.
  virtual bool HasConsent(std::string_view patient, std::string_view organization) = 0;
};

// What the policy needs to know of one resource (current content, or the content written).
struct ResourceFacts {
  std::string type;
  std::string id;
  std::vector<std::string> patients;       // ids of the patients whose compartment holds it
  std::vector<std::string> organizations;  // Organization ids it references (or is)
  std::string device;                      // for a Device: its id
};

enum class Verdict : uint8_t {
  kAllow,
  kScope,   // the token's scopes do not grant this (403, insufficient_scope)
  kDenied,  // the policy refuses (403 on writes, 404 on reads of one resource)
};

struct Decision {
  Verdict verdict = Verdict::kDenied;
  bool break_glass = false;  // allowed only because of break-the-glass
  std::string reason;        // for the audit trail and error messages
  bool allowed() const { return verdict == Verdict::kAllow; }
};

struct PolicyRequest {
  Action action = Action::kRead;
  // The practitioner asked for break-the-glass (stated a reason).
  bool break_glass = false;
  // A write that creates the resource (no live version existed).
  bool creates = false;
};

// May `who` perform `request.action` on some resource of `type` at all (scopes and role)?
// Interactions that name no resource (search, type history) check this first.
Decision DecideType(const Principal& who, std::string_view type, const PolicyRequest& request);

// May `who` perform `request.action` on the resource described by `facts`? Includes
// DecideType.
Decision DecideResource(const Principal& who, const ResourceFacts& facts,
                        const PolicyRequest& request, RelationLookup& relations);

// True when every resource of `type` that exists is readable by `who` (so search and type
// history need no per-resource filtering, and type/system history is allowed). An empty
// type means "every type" (system history).
bool ReadsWholeType(const Principal& who, std::string_view type);

}  // namespace medhub::security
