#include "security/policy.h"

#include <algorithm>

namespace medhub::security {
namespace {

constexpr std::string_view kAuditEvent = "AuditEvent";

Decision Allow(std::string reason, bool break_glass = false) {
  return Decision{Verdict::kAllow, break_glass, std::move(reason)};
}
Decision Deny(std::string reason) { return Decision{Verdict::kDenied, false, std::move(reason)}; }

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool OpensCare(std::string_view type) {
  return type == "Encounter" || type == "EpisodeOfCare" || type == "CareTeam";
}

// Any patient of the resource that `org` cares for or holds the consent of.
bool Related(const ResourceFacts& facts, std::string_view org, RelationLookup& relations,
             std::string* reason) {
  if (org.empty()) return false;
  for (const std::string& p : facts.patients) {
    if (relations.HasCareRelation(p, org)) {
      *reason = "care relation of Organization/" + std::string(org) + " with Patient/" + p;
      return true;
    }
  }
  for (const std::string& p : facts.patients) {
    if (relations.HasConsent(p, org)) {
      *reason = "consent of Patient/" + p + " for Organization/" + std::string(org);
      return true;
    }
  }
  return false;
}

Decision DecideAuditEvent(const Principal& who, const ResourceFacts& facts, Action action) {
  if (action != Action::kRead) return Deny("AuditEvents are written by the server only");
  switch (who.role) {
    case Role::kAuditor:
    case Role::kService:
      return Allow("audit trail");
    case Role::kPatient:
      if (Contains(facts.patients, who.patient)) return Allow("the patient's own audit trail");
      return Deny("an AuditEvent about another patient");
    default:
      return Deny("only auditors and the patient concerned read AuditEvents");
  }
}

Decision DecideClinical(const Principal& who, const ResourceFacts& facts,
                        const PolicyRequest& request, RelationLookup& relations) {
  std::string reason;
  switch (who.role) {
    case Role::kPatient:
      if (Contains(facts.patients, who.patient)) return Allow("own compartment");
      return Deny("not in the patient's own compartment");
    case Role::kPractitioner:
      if (Related(facts, who.organization, relations, &reason)) return Allow(reason);
      if (request.action == Action::kWrite && request.creates && facts.type == "Patient")
        return Allow("registers a new patient");
      if (request.action == Action::kWrite && OpensCare(facts.type) &&
          Contains(facts.organizations, who.organization))
        return Allow("an admission at the practitioner's Organization");
      if (request.break_glass) return Allow("break-the-glass", /*break_glass=*/true);
      return Deny("no care relation or consent for this patient at Organization/" +
                  who.organization);
    case Role::kAdmin:
      if (Contains(facts.organizations, who.organization))
        return Allow("names the admin's Organization");
      if (request.action == Action::kRead && Related(facts, who.organization, relations, &reason))
        return Allow(reason);
      return Deny("clinical content outside the organization's care relations");
    case Role::kDevice:
      if (facts.type == "Device")
        return facts.id == who.device && request.action == Action::kRead
                   ? Allow("the device itself")
                   : Deny("another device");
      if (facts.type == "Observation" && request.action == Action::kWrite &&
          facts.patients.size() == 1 && facts.patients[0] == who.patient)
        return Allow("an Observation of the bound patient");
      return Deny("a device only writes Observations of its bound patient");
    case Role::kService:
      return Allow("system scope");
    case Role::kAuditor:
      return Deny("auditors never see clinical content");
  }
  return Deny("unknown role");
}

Decision DecideShared(const Principal& who, const ResourceFacts& facts,
                      const PolicyRequest& request) {
  const bool read = request.action == Action::kRead;
  switch (who.role) {
    case Role::kPatient:
      return read ? Allow("shared resource") : Deny("patients write only their own record");
    case Role::kPractitioner:
    case Role::kService:
      return Allow("shared resource");
    case Role::kAdmin:
      if (read) return Allow("shared resource");
      if (facts.type == "Organization" && facts.id == who.organization)
        return Allow("the admin's Organization");
      if (facts.type == "Practitioner" || Contains(facts.organizations, who.organization))
        return Allow("belongs to the admin's Organization");
      return Deny("names another organization");
    case Role::kDevice:
      if (facts.type == "Device" && facts.id == who.device && read)
        return Allow("the device itself");
      return Deny("a device only writes Observations of its bound patient");
    case Role::kAuditor:
      return Deny("auditors read AuditEvents only");
  }
  return Deny("unknown role");
}

}  // namespace

Decision DecideType(const Principal& who, std::string_view type, const PolicyRequest& request) {
  const ContextSet contexts = AllowedContexts(who.scopes, type, request.action);
  if (!contexts.any()) {
    return Decision{Verdict::kScope, false,
                    "the token's scopes do not grant " +
                        std::string(request.action == Action::kRead ? "read" : "write") + " on " +
                        std::string(type)};
  }
  if (who.role == Role::kAuditor && type != kAuditEvent)
    return Deny("auditors read AuditEvents only");
  if (type == kAuditEvent && request.action != Action::kRead)
    return Deny("AuditEvents are written by the server only");
  if (who.role == Role::kDevice && type != "Observation" && type != "Device")
    return Deny("a device only writes Observations of its bound patient");
  return Allow("scope");
}

Decision DecideResource(const Principal& who, const ResourceFacts& facts,
                        const PolicyRequest& request, RelationLookup& relations) {
  Decision d = DecideType(who, facts.type, request);
  if (!d.allowed()) return d;
  if (facts.type == kAuditEvent) return DecideAuditEvent(who, facts, request.action);
  if (facts.patients.empty() && facts.type != "Patient") return DecideShared(who, facts, request);
  return DecideClinical(who, facts, request, relations);
}

bool ReadsWholeType(const Principal& who, std::string_view type) {
  const std::string_view t = type.empty() ? "*" : type;
  if (type.empty()) {
    // System history: only a role that reads every instance of every type.
    return who.role == Role::kService &&
           AllowedContexts(who.scopes, "Patient", Action::kRead).system &&
           Allows(who.scopes, "*", Action::kRead, ScopeContext::kSystem);
  }
  if (!AllowedContexts(who.scopes, t, Action::kRead).any()) return false;
  if (who.role == Role::kService) return true;
  if (who.role == Role::kAuditor) return type == kAuditEvent;
  return false;
}

}  // namespace medhub::security
