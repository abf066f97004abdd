// The access decisions of one FHIR request, and what its AuditEvent will say.
//
// FhirApi makes one RequestAccess per request and asks it before every path to data:
// CheckType before interactions that name no resource, CheckRead/MayRead on every resource
// it is about to return (read, vread, search matches, _include, _revinclude, history
// entries, $everything, $verify), CheckWrite on the content a create/update writes and on
// the content an update/delete replaces. Allowed resources are noted for the audit trail.
// Without a principal (policy off: in-process imports and pure API tests) everything is
// allowed and nothing is noted.
//
// Denials: a scope or role refusal is PermissionDenied (403); a refused read of one named
// resource is NotFound (404) so that its existence does not leak; a refused write is
// PermissionDenied (403).
//
// Not thread-safe: one request, one thread.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "security/policy.h"
#include "security/relations.h"
#include "store/store.h"

namespace medhub::server {

// The NotFound of a resource the caller may not see: word for word what the store answers
// for a resource that does not exist, so that a refusal does not reveal existence.
Status HiddenNotFound(std::string_view type, std::string_view id);

class RequestAccess {
 public:
  // Policy off.
  RequestAccess() = default;
  // Policy on for `principal`; `relations` must outlive this object. `break_glass_reason`
  // is the X-Break-Glass header ("" when absent).
  RequestAccess(const security::Principal* principal, security::RelationLookup* relations,
                std::string break_glass_reason);

  bool enforced() const { return principal_ != nullptr; }
  const security::Principal* principal() const { return principal_; }

  // May the caller do `action` on some `type` at all (scopes, role)?
  Status CheckType(std::string_view type, security::Action action);
  // Every instance of `type` ("" = every type) readable: no filtering needed.
  bool ReadsWholeType(std::string_view type) const;

  // A read of one named resource (its stored bytes). NotFound when refused.
  Status CheckRead(const store::StoredResource& resource);
  // The same as a yes/no, for filtering collections.
  bool MayRead(const store::StoredResource& resource);
  bool MayRead(std::string_view type, std::string_view id, const json::Value& resource);
  // May the caller read resources of `type` in `patient`'s compartment? True means every
  // such resource is readable (a resource is readable when any of its patients is); false
  // decides nothing (the caller checks each resource).
  bool MayReadCompartment(std::string_view type, std::string_view patient);
  // A write of `resource` (new content), or over/of `existing` (replaced content).
  // `creates`: no live version exists (create, update-as-create).
  Status CheckWrite(const json::Value& resource, bool creates = false);
  Status CheckWriteExisting(const store::StoredResource& existing);

  // Patients whose relations a write changed (to invalidate after the commit), and
  // whether every cached relation must go (a PractitionerRole changed).
  const std::set<std::string>& relation_patients() const { return relation_patients_; }
  bool relations_all() const { return relations_all_; }

  // For the AuditEvent.
  const std::set<std::string>& patients() const { return patients_; }
  const std::vector<std::string>& resources() const { return resources_; }
  // Patients opened only thanks to break-the-glass.
  const std::set<std::string>& break_glass_patients() const { return break_glass_patients_; }
  const std::string& break_glass_reason() const { return break_glass_reason_; }
  const std::string& denial() const { return denial_; }

 private:
  security::Decision Decide(const security::ResourceFacts& facts, security::Action action,
                            bool creates = false);
  void Note(const security::ResourceFacts& facts, const security::Decision& d);

  const security::Principal* principal_ = nullptr;
  security::RelationLookup* relations_ = nullptr;
  std::string break_glass_reason_;
  std::set<std::string> patients_;
  std::vector<std::string> resources_;
  std::set<std::string> break_glass_patients_;
  std::set<std::string> relation_patients_;
  bool relations_all_ = false;
  std::string denial_;
};

}  // namespace medhub::server
