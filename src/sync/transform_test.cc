#include "sync/transform.h"

#include <gtest/gtest.h>

namespace medhub::sync {
namespace {

json::Value Parse(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return std::move(v).value();
}

constexpr char kBase[] = "http://10.0.0.1:8080/fhir";

TEST(TransformTest, IdsAreNamespacedBySourceAndReferencesFollow) {
  json::Value obs = Parse(
      R"({"resourceType":"Observation","id":"o1","meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z","profile":["p"]},)"
      R"("subject":{"reference":"Patient/p1"},"encounter":{"reference":"http://10.0.0.1:8080/fhir/Encounter/e1"},)"
      R"("basedOn":[{"reference":"ServiceRequest/s1/_history/3"}],"performer":[{"reference":"http://other.org/fhir/Practitioner/x"}],)"
      R"("hasMember":[{"reference":"#c1"}],"derivedFrom":[{"reference":"urn:uuid:abc"}]})");
  Localize(&obs, "east", kBase, 7);
  EXPECT_EQ(obs.get_string("id"), "east-o1");
  EXPECT_EQ(obs.find("subject")->get_string("reference"), "Patient/east-p1");
  EXPECT_EQ(obs.find("encounter")->get_string("reference"), "Encounter/east-e1");
  EXPECT_EQ(obs.find("basedOn")->items()[0].get_string("reference"), "ServiceRequest/east-s1");
  EXPECT_EQ(obs.find("performer")->items()[0].get_string("reference"),
            "http://other.org/fhir/Practitioner/x");
  EXPECT_EQ(obs.find("hasMember")->items()[0].get_string("reference"), "#c1");
  EXPECT_EQ(obs.find("derivedFrom")->items()[0].get_string("reference"), "urn:uuid:abc");
  const json::Value* meta = obs.find("meta");
  EXPECT_EQ(meta->get_string("source"), std::string(kBase) + "/Observation/o1/_history/7");
  EXPECT_EQ(meta->find("versionId"), nullptr);
  EXPECT_NE(meta->find("profile"), nullptr);
  EXPECT_EQ(SourceVersionOf(obs), 7u);
}

TEST(TransformTest, ContainedResourcesKeepTheirIdsButTheirReferencesAreRewritten) {
  json::Value r = Parse(
      R"({"resourceType":"MedicationRequest","id":"m","contained":[{"resourceType":"Medication","id":"c1",)"
      R"("manufacturer":{"reference":"Organization/o"}}],"medicationReference":{"reference":"#c1"}})");
  Localize(&r, "west", kBase, 1);
  const json::Value& c = r.find("contained")->items()[0];
  EXPECT_EQ(c.get_string("id"), "c1");
  EXPECT_EQ(c.find("manufacturer")->get_string("reference"), "Organization/west-o");
}

TEST(TransformTest, OverlongIdsAreHashedDeterministicallyIntoSixtyFourCharacters) {
  const std::string long_id(64, 'a');
  const std::string a = LocalId("east", long_id);
  EXPECT_LE(a.size(), 64u);
  EXPECT_EQ(a, LocalId("east", long_id));
  EXPECT_NE(a, LocalId("east", std::string(63, 'a') + "b"));
  EXPECT_EQ(LocalId("east", "x"), "east-x");
}

TEST(TransformTest, SourceVersionIsZeroWithoutProvenance) {
  EXPECT_EQ(SourceVersionOf(Parse(R"({"resourceType":"Patient","id":"p"})")), 0u);
}

}  // namespace
}  // namespace medhub::sync
