#include "security/relations.h"

#include <algorithm>

#include "fhir/resource.h"
#include "fhir/search_params.h"

namespace medhub::security {
namespace {

// The id of a relative reference to `type` held at `ref` (an object with "reference").
std::string RefId(const json::Value* ref, std::string_view type) {
  if (ref == nullptr || !ref->is_object()) return "";
  const json::Value* r = ref->find("reference");
  if (r == nullptr || !r->is_string()) return "";
  auto parsed = fhir::ParseReference(r->text());
  if (!parsed.ok() || parsed->kind != fhir::Reference::Kind::kRelative || parsed->type != type)
    return "";
  return parsed->id;
}

// Every relative reference to `type` anywhere in `v`.
void CollectRefs(const json::Value& v, std::string_view type, std::vector<std::string>* out) {
  if (v.is_array()) {
    for (const auto& item : v.items()) CollectRefs(item, type, out);
  } else if (v.is_object()) {
    if (std::string id = RefId(&v, type); !id.empty()) {
      if (std::find(out->begin(), out->end(), id) == out->end()) out->push_back(std::move(id));
    }
    for (const auto& [k, child] : v.members()) CollectRefs(child, type, out);
  }
}

template <typename F>
void ForEach(const json::Value* v, F&& f) {
  if (v == nullptr) return;
  if (v->is_array()) {
    for (const auto& item : v->items()) f(item);
  } else {
    f(*v);
  }
}

bool OneOf(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

void AddEncounter(const json::Value& r,
                  const std::function<std::string(std::string_view)>& role_org,
                  PatientRelations* out) {
  if (OneOf(r.get_string("status"), {"cancelled", "entered-in-error"})) return;
  if (std::string org = RefId(r.find("serviceProvider"), "Organization"); !org.empty())
    out->care.insert(org);
  ForEach(r.find("participant"), [&](const json::Value& p) {
    std::string role = RefId(p.find("individual"), "PractitionerRole");
    if (role.empty() || !role_org) return;
    if (std::string org = role_org(role); !org.empty()) out->care.insert(org);
  });
}

void AddCareTeam(const json::Value& r, PatientRelations* out) {
  const std::string_view status = r.get_string("status");
  if (!status.empty() && !OneOf(status, {"active", "proposed"})) return;
  ForEach(r.find("managingOrganization"), [&](const json::Value& m) {
    if (std::string org = RefId(&m, "Organization"); !org.empty()) out->care.insert(org);
  });
  ForEach(r.find("participant"), [&](const json::Value& p) {
    for (const char* element : {"member", "onBehalfOf"})
      if (std::string org = RefId(p.find(element), "Organization"); !org.empty())
        out->care.insert(org);
  });
}

void AddConsent(const json::Value& r, PatientRelations* out) {
  if (r.get_string("status") != "active") return;
  const json::Value* provision = r.find("provision");
  if (provision == nullptr || provision->get_string("type") != "permit") return;
  ForEach(provision->find("actor"), [&](const json::Value& a) {
    if (std::string org = RefId(a.find("reference"), "Organization"); !org.empty())
      out->consent.insert(org);
  });
}

}  // namespace

ResourceFacts FactsOf(const json::Value& resource) {
  ResourceFacts f;
  f.type = std::string(fhir::ResourceType(resource));
  f.id = std::string(fhir::ResourceId(resource));
  if (f.type == "AuditEvent") {
    ForEach(resource.find("entity"), [&](const json::Value& e) {
      if (std::string p = RefId(e.find("what"), "Patient"); !p.empty()) f.patients.push_back(p);
    });
  } else {
    f.patients = fhir::PatientCompartmentsOf(resource);
  }
  if (f.type == "Organization") f.organizations.push_back(f.id);
  CollectRefs(resource, "Organization", &f.organizations);
  if (f.type == "Device") f.device = f.id;
  return f;
}

bool AffectsRelations(std::string_view type) {
  return OneOf(type, {"CareTeam", "EpisodeOfCare", "Encounter", "Consent", "PractitionerRole"});
}

PatientRelations RelationsFrom(std::string_view patient, const std::vector<json::Value>& resources,
                               const std::function<std::string(std::string_view)>& role_org) {
  PatientRelations out;
  for (const json::Value& r : resources) {
    const std::string_view type = fhir::ResourceType(r);
    if (type == "Consent") {
      if (RefId(r.find("patient"), "Patient") == patient) AddConsent(r, &out);
    } else if (type == "Encounter") {
      AddEncounter(r, role_org, &out);
    } else if (type == "CareTeam") {
      AddCareTeam(r, &out);
    } else if (type == "EpisodeOfCare") {
      if (OneOf(r.get_string("status"), {"planned", "waitlist", "active", "onhold"}))
        if (std::string org = RefId(r.find("managingOrganization"), "Organization"); !org.empty())
          out.care.insert(org);
    }
  }
  return out;
}

RelationCache::RelationCache(store::Store* store, size_t max_patients)
    : store_(store), max_patients_(max_patients) {}

bool RelationCache::HasCareRelation(std::string_view patient, std::string_view organization) {
  auto r = Get(patient);
  return r->care.find(organization) != r->care.end();
}

bool RelationCache::HasConsent(std::string_view patient, std::string_view organization) {
  auto r = Get(patient);
  return r->consent.find(organization) != r->consent.end();
}

std::shared_ptr<const PatientRelations> RelationCache::Get(std::string_view patient) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(patient));
    if (it != cache_.end()) return it->second;
    generation = generation_;
  }
  misses_.fetch_add(1);
  auto loaded = Load(patient);
  if (!loaded.ok()) return std::make_shared<const PatientRelations>();
  auto value = std::make_shared<const PatientRelations>(std::move(loaded).value());
  std::lock_guard lock(mu_);
  if (generation_ == generation) {
    if (cache_.size() >= max_patients_) cache_.clear();
    cache_.emplace(std::string(patient), value);
  }
  return value;
}

Result<PatientRelations> RelationCache::Load(std::string_view patient) {
  ASSIGN_OR_RETURN(std::vector<store::CompartmentEntry> members, store_->Compartment(patient));
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& m : members) {
    if (AffectsRelations(m.type) && m.type != "PractitionerRole") keys.emplace_back(m.type, m.id);
  }
  std::vector<json::Value> resources;
  for (auto& r : store_->ReadMany(keys)) {
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) continue;
      return r.status();
    }
    if (r->deleted) continue;
    ASSIGN_OR_RETURN(json::Value v, json::Parse(r->json));
    resources.push_back(std::move(v));
  }
  auto role_org = [this](std::string_view role) -> std::string {
    auto r = store_->Read("PractitionerRole", role);
    if (!r.ok() || r->deleted) return "";
    auto v = json::Parse(r->json);
    return v.ok() ? RefId(v->find("organization"), "Organization") : "";
  };
  return RelationsFrom(patient, resources, role_org);
}

void RelationCache::Invalidate(std::string_view patient) {
  std::lock_guard lock(mu_);
  ++generation_;
  cache_.erase(std::string(patient));
}

void RelationCache::InvalidateAll() {
  std::lock_guard lock(mu_);
  ++generation_;
  cache_.clear();
}

}  // namespace medhub::security
