// Care relations and consents, read from the store and cached per patient, for the policy
// (policy.h), and the facts of a resource that the policy decides on.
//
// A patient's relations are computed from the resources of their compartment
// (docs/security.md, "Care relations and consent"):
//   care relation  an Encounter (not cancelled or entered-in-error) whose serviceProvider,
//                  or the organization of a PractitionerRole participant, is the
//                  Organization; an EpisodeOfCare (planned, waitlist, active, onhold)
//                  managed by it; a CareTeam (active, proposed or no status) managed by it
//                  or with it (or a member on its behalf) as participant;
//   consent        a Consent with status active and provision.type permit whose
//                  provision.actor names the Organization.
// The first lookup of a patient reads their compartment once; later lookups are a hash
// lookup. Whoever writes a CareTeam, EpisodeOfCare, Encounter, PractitionerRole or Consent
// must call Invalidate() for the patients of the old and new content after the commit
// (FhirApi does); an entry being filled concurrently with an invalidation is discarded.
//
// Thread-safe: any number of concurrent lookups and invalidations.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/json.h"
#include "security/policy.h"
#include "store/store.h"

namespace medhub::security {

// The facts of a resource for the policy: its compartment patients (for an AuditEvent, the
// patients named by entity.what), the Organizations it references (or is), its id.
ResourceFacts FactsOf(const json::Value& resource);

// True when a write of this type may change someone's relations.
bool AffectsRelations(std::string_view type);

struct PatientRelations {
  std::set<std::string, std::less<>> care;     // Organization ids with a care relation
  std::set<std::string, std::less<>> consent;  // Organization ids the patient consented to
};

// The relations found in the given compartment resources of one patient (pure).
PatientRelations RelationsFrom(std::string_view patient, const std::vector<json::Value>& resources,
                               const std::function<std::string(std::string_view)>& role_org);

class RelationCache : public RelationLookup {
 public:
  explicit RelationCache(store::Store* store, size_t max_patients = 100'000);

  bool HasCareRelation(std::string_view patient, std::string_view organization) override;
  bool HasConsent(std::string_view patient, std::string_view organization) override;

  // The relations of one patient (read from the store on a miss). On a store error the
  // patient has no relations (deny) and nothing is cached.
  std::shared_ptr<const PatientRelations> Get(std::string_view patient);

  void Invalidate(std::string_view patient);
  void InvalidateAll();

  uint64_t misses() const { return misses_.load(); }

 private:
  Result<PatientRelations> Load(std::string_view patient);

  store::Store* store_;
  size_t max_patients_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const PatientRelations>>
      cache_;                // GUARDED_BY(mu_)
  uint64_t generation_ = 0;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> misses_{0};
};

}  // namespace medhub::security
