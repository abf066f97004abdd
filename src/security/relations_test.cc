#include "security/relations.h"

#include <gtest/gtest.h>

#include "fhir/resource.h"
#include "security/test_util.h"
#include "store/test_util.h"

namespace medhub::security {
namespace {

void Put(store::Store* store, const std::string& json) {
  std::vector<store::WriteOp> ops;
  ops.push_back(testing::PutOp(json));
  ASSERT_TRUE(store->Commit(std::move(ops)).ok());
}

TEST(RelationsTest, EncountersEpisodesAndCareTeamsMakeCareRelations) {
  TempStore t;
  Put(t.get(), R"({"resourceType":"Patient","id":"pa"})");
  Put(t.get(), R"({"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},
    "subject":{"reference":"Patient/pa"},"serviceProvider":{"reference":"Organization/org1"}})");
  Put(t.get(), R"({"resourceType":"Encounter","id":"e2","status":"cancelled","class":{"code":"AMB"},
    "subject":{"reference":"Patient/pa"},"serviceProvider":{"reference":"Organization/org9"}})");
  Put(t.get(), R"({"resourceType":"EpisodeOfCare","id":"ep","status":"active",
    "patient":{"reference":"Patient/pa"},"managingOrganization":{"reference":"Organization/org2"}})");
  Put(t.get(), R"({"resourceType":"CareTeam","id":"ct","status":"active",
    "subject":{"reference":"Patient/pa"},
    "participant":[{"member":{"reference":"Organization/org3"}}]})");
  RelationCache cache(t.get());
  EXPECT_TRUE(cache.HasCareRelation("pa", "org1"));
  EXPECT_TRUE(cache.HasCareRelation("pa", "org2"));
  EXPECT_TRUE(cache.HasCareRelation("pa", "org3"));
  EXPECT_FALSE(cache.HasCareRelation("pa", "org9"));  // a cancelled encounter
  EXPECT_FALSE(cache.HasCareRelation("pb", "org1"));
}

TEST(RelationsTest, ConsentGrantsUntilRevokedAndTheCacheFollowsInvalidation) {
  TempStore t;
  Put(t.get(), R"({"resourceType":"Patient","id":"pa"})");
  const std::string consent =
      R"({"resourceType":"Consent","id":"c1","status":"%s","scope":{"text":"patient-privacy"},
      "category":[{"text":"access"}],"patient":{"reference":"Patient/pa"},
      "provision":{"type":"permit","actor":[{"role":{"text":"grantee"},
      "reference":{"reference":"Organization/org2"}}]}})";
  auto with = [&](const char* status) {
    std::string s = consent;
    s.replace(s.find("%s"), 2, status);
    return s;
  };
  Put(t.get(), with("active"));
  RelationCache cache(t.get());
  EXPECT_TRUE(cache.HasConsent("pa", "org2"));
  EXPECT_FALSE(cache.HasCareRelation("pa", "org2"));
  Put(t.get(), with("inactive"));
  EXPECT_TRUE(cache.HasConsent("pa", "org2"));  // cached until invalidated
  cache.Invalidate("pa");
  EXPECT_FALSE(cache.HasConsent("pa", "org2"));
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(RelationsTest, FactsNameCompartmentPatientsAndOrganizations) {
  auto obs = fhir::ParseResource(R"({"resourceType":"Observation","id":"o","status":"final",
    "code":{"text":"x"},"subject":{"reference":"Patient/pa"},
    "performer":[{"reference":"Organization/org1"}]})");
  ASSERT_TRUE(obs.ok());
  const ResourceFacts f = FactsOf(*obs);
  EXPECT_EQ(f.patients, std::vector<std::string>{"pa"});
  EXPECT_EQ(f.organizations, std::vector<std::string>{"org1"});
  auto ev = fhir::ParseResource(R"({"resourceType":"AuditEvent","id":"a",
    "type":{"code":"rest"},"recorded":"2026-01-01T00:00:00Z","agent":[{"requestor":true}],
    "source":{"observer":{"display":"x"}},"entity":[{"what":{"reference":"Patient/pb"}}]})");
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(FactsOf(*ev).patients, std::vector<std::string>{"pb"});
}

}  // namespace
}  // namespace medhub::security
