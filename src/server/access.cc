#include "server/access.h"

#include "fhir/resource.h"
#include "fhir/search_params.h"

namespace medhub::server {

using security::Action;
using security::Decision;
using security::ResourceFacts;
using security::Verdict;

Status HiddenNotFound(std::string_view type, std::string_view id) {
  return Status::NotFound(std::string(type) + "/" + std::string(id) + " is not known");
}

RequestAccess::RequestAccess(const security::Principal* principal,
                             security::RelationLookup* relations, std::string break_glass_reason)
    : principal_(principal),
      relations_(relations),
      break_glass_reason_(std::move(break_glass_reason)) {}

Status RequestAccess::CheckType(std::string_view type, Action action) {
  if (!enforced()) return Status::Ok();
  security::PolicyRequest req{action, !break_glass_reason_.empty()};
  const Decision d = security::DecideType(*principal_, type, req);
  if (d.allowed()) return Status::Ok();
  denial_ = d.reason;
  return Status::PermissionDenied(d.reason);
}

bool RequestAccess::ReadsWholeType(std::string_view type) const {
  return !enforced() || security::ReadsWholeType(*principal_, type);
}

Decision RequestAccess::Decide(const ResourceFacts& facts, Action action, bool creates) {
  security::PolicyRequest req{
      action, !break_glass_reason_.empty() && principal_->role == security::Role::kPractitioner,
      creates};
  Decision d = security::DecideResource(*principal_, facts, req, *relations_);
  if (!d.allowed() && denial_.empty()) denial_ = d.reason;
  return d;
}

void RequestAccess::Note(const ResourceFacts& facts, const Decision& d) {
  for (const std::string& p : facts.patients) {
    patients_.insert(p);
    if (d.break_glass) break_glass_patients_.insert(p);
  }
  if (resources_.size() < 100) resources_.push_back(facts.type + "/" + facts.id);
}

bool RequestAccess::MayRead(std::string_view type, std::string_view id,
                            const json::Value& resource) {
  if (!enforced()) return true;
  ResourceFacts facts = security::FactsOf(resource);
  facts.type = std::string(type);
  facts.id = std::string(id);
  const Decision d = Decide(facts, Action::kRead);
  if (d.allowed()) Note(facts, d);
  return d.allowed();
}

bool RequestAccess::MayRead(const store::StoredResource& r) {
  if (!enforced()) return true;
  if (r.deleted) {
    // A delete marker carries no content: readable by whoever may read the type widely.
    return ReadsWholeType(r.type);
  }
  auto doc = json::Parse(r.json);
  if (!doc.ok()) return false;
  return MayRead(r.type, r.id, *doc);
}

bool RequestAccess::MayReadCompartment(std::string_view type, std::string_view patient) {
  if (!enforced()) return true;
  ResourceFacts facts;
  facts.type = std::string(type);
  facts.patients.emplace_back(patient);
  const std::string saved = denial_;
  const Decision d = Decide(facts, Action::kRead);
  if (!d.allowed()) {
    denial_ = saved;  // not a refusal: each resource is decided on its own
    return false;
  }
  for (const std::string& p : facts.patients) {
    patients_.insert(p);
    if (d.break_glass) break_glass_patients_.insert(p);
  }
  return true;
}

Status RequestAccess::CheckRead(const store::StoredResource& r) {
  if (!enforced()) return Status::Ok();
  RETURN_IF_ERROR(CheckType(r.type, Action::kRead));
  if (MayRead(r)) return Status::Ok();
  return HiddenNotFound(r.type, r.id);
}

Status RequestAccess::CheckWrite(const json::Value& resource, bool creates) {
  const std::string_view type = fhir::ResourceType(resource);
  if (security::AffectsRelations(type)) {
    if (type == "PractitionerRole") relations_all_ = true;
    for (const std::string& p : fhir::PatientCompartmentsOf(resource)) relation_patients_.insert(p);
  }
  if (!enforced()) return Status::Ok();
  const ResourceFacts facts = security::FactsOf(resource);
  const Decision d = Decide(facts, Action::kWrite, creates);
  if (!d.allowed()) return Status::PermissionDenied(d.reason);
  Note(facts, d);
  return Status::Ok();
}

Status RequestAccess::CheckWriteExisting(const store::StoredResource& existing) {
  if (existing.deleted || existing.json.empty()) {
    if (!enforced()) return Status::Ok();
    return CheckType(existing.type, Action::kWrite);
  }
  ASSIGN_OR_RETURN(json::Value doc, json::Parse(existing.json));
  return CheckWrite(doc);
}

}  // namespace medhub::server
