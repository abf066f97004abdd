#include "security/policy.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace medhub::security {
namespace {

// A fixed table of relations: the pure policy is tested apart from the store-backed cache
// (relations_test.cc tests that one on a real store).
class TableRelations : public RelationLookup {
 public:
  std::set<std::pair<std::string, std::string>> care, consent;  // (patient, organization)
  bool HasCareRelation(std::string_view p, std::string_view o) override {
    return care.contains({std::string(p), std::string(o)});
  }
  bool HasConsent(std::string_view p, std::string_view o) override {
    return consent.contains({std::string(p), std::string(o)});
  }
};

Principal Make(Role role, std::string scopes, std::string org = "", std::string patient = "",
               std::string device = "") {
  Principal p;
  p.subject = "someone";
  p.role = role;
  p.organization = std::move(org);
  p.patient = std::move(patient);
  p.device = std::move(device);
  p.scopes = ParseScopes(scopes).value();
  return p;
}

ResourceFacts Obs(std::string patient, std::string id = "o1") {
  return ResourceFacts{"Observation", std::move(id), {std::move(patient)}, {}, ""};
}

const PolicyRequest kRead{Action::kRead};
const PolicyRequest kWrite{Action::kWrite};

TEST(PolicyTest, PatientReadsOnlyTheirOwnCompartment) {
  TableRelations rel;
  const Principal p = Make(Role::kPatient, "patient/*.read", "", "pa");
  EXPECT_TRUE(DecideResource(p, Obs("pa"), kRead, rel).allowed());
  EXPECT_EQ(DecideResource(p, Obs("pb"), kRead, rel).verdict, Verdict::kDenied);
  EXPECT_TRUE(DecideResource(p, {"Organization", "org1", {}, {"org1"}, ""}, kRead, rel).allowed());
}

TEST(PolicyTest, ScopesAreCheckedBeforeAnyRelation) {
  TableRelations rel;
  const Principal p = Make(Role::kPatient, "patient/Observation.read", "", "pa");
  EXPECT_EQ(DecideResource(p, Obs("pa"), kWrite, rel).verdict, Verdict::kScope);
  EXPECT_EQ(DecideType(p, "Condition", kRead).verdict, Verdict::kScope);
}

TEST(PolicyTest, PractitionerNeedsACareRelationOrConsentAtTheirOrganization) {
  TableRelations rel;
  rel.care.insert({"pa", "org1"});
  rel.consent.insert({"pb", "org2"});
  const Principal d1 = Make(Role::kPractitioner, "user/*.*", "org1");
  const Principal d2 = Make(Role::kPractitioner, "user/*.*", "org2");
  EXPECT_TRUE(DecideResource(d1, Obs("pa"), kRead, rel).allowed());
  EXPECT_TRUE(DecideResource(d1, Obs("pa"), kWrite, rel).allowed());
  EXPECT_FALSE(DecideResource(d1, Obs("pb"), kRead, rel).allowed());
  EXPECT_TRUE(DecideResource(d2, Obs("pb"), kRead, rel).allowed());
  EXPECT_FALSE(DecideResource(d2, Obs("pa"), kRead, rel).allowed());
}

TEST(PolicyTest, BreakTheGlassIsAllowedAndFlaggedOnlyWhenNeeded) {
  TableRelations rel;
  rel.care.insert({"pa", "org1"});
  const Principal d = Make(Role::kPractitioner, "user/*.*", "org1");
  const Decision glass = DecideResource(d, Obs("pb"), {Action::kRead, true}, rel);
  EXPECT_TRUE(glass.allowed());
  EXPECT_TRUE(glass.break_glass);
  const Decision normal = DecideResource(d, Obs("pa"), {Action::kRead, true}, rel);
  EXPECT_TRUE(normal.allowed());
  EXPECT_FALSE(normal.break_glass);
}

TEST(PolicyTest, AuditorSeesAuditEventsAndNeverClinicalContent) {
  TableRelations rel;
  const Principal a = Make(Role::kAuditor, "user/AuditEvent.read");
  EXPECT_TRUE(DecideResource(a, {"AuditEvent", "e1", {"pa"}, {}, ""}, kRead, rel).allowed());
  EXPECT_FALSE(DecideResource(a, Obs("pa"), kRead, rel).allowed());
  // Even with a scope that would grant it, clinical content stays closed to auditors.
  const Principal wide = Make(Role::kAuditor, "user/*.read");
  EXPECT_FALSE(DecideResource(wide, Obs("pa"), kRead, rel).allowed());
}

TEST(PolicyTest, NobodyWritesAuditEventsAndPatientsReadOnlyTheirOwn) {
  TableRelations rel;
  const ResourceFacts ev{"AuditEvent", "e1", {"pa"}, {}, ""};
  EXPECT_FALSE(DecideResource(Make(Role::kService, "system/*.*"), ev, kWrite, rel).allowed());
  EXPECT_TRUE(
      DecideResource(Make(Role::kPatient, "patient/*.read", "", "pa"), ev, kRead, rel).allowed());
  EXPECT_FALSE(
      DecideResource(Make(Role::kPatient, "patient/*.read", "", "pb"), ev, kRead, rel).allowed());
  EXPECT_FALSE(
      DecideResource(Make(Role::kPractitioner, "user/*.*", "org1"), ev, kRead, rel).allowed());
}

TEST(PolicyTest, DeviceWritesObservationsOfItsBoundPatientOnly) {
  TableRelations rel;
  const Principal dev =
      Make(Role::kDevice, "patient/Observation.write patient/Device.read", "", "pa", "d1");
  EXPECT_TRUE(DecideResource(dev, Obs("pa"), kWrite, rel).allowed());
  EXPECT_FALSE(DecideResource(dev, Obs("pb"), kWrite, rel).allowed());
  EXPECT_FALSE(DecideResource(dev, Obs("pa"), kRead, rel).allowed());
  EXPECT_TRUE(DecideResource(dev, {"Device", "d1", {"pa"}, {}, "d1"}, kRead, rel).allowed());
  EXPECT_FALSE(DecideResource(dev, {"Device", "d2", {"pa"}, {}, "d2"}, kRead, rel).allowed());
}

TEST(PolicyTest, AdminWritesOnlyTheirOrganizationsDirectoryAndNoClinicalContent) {
  TableRelations rel;
  const Principal admin = Make(Role::kAdmin, "user/Organization.* user/Location.*", "org1");
  EXPECT_TRUE(
      DecideResource(admin, {"Organization", "org1", {}, {"org1"}, ""}, kWrite, rel).allowed());
  EXPECT_FALSE(
      DecideResource(admin, {"Organization", "org2", {}, {"org2"}, ""}, kWrite, rel).allowed());
  EXPECT_TRUE(DecideResource(admin, {"Location", "l1", {}, {"org1"}, ""}, kWrite, rel).allowed());
  EXPECT_EQ(DecideResource(admin, Obs("pa"), kRead, rel).verdict, Verdict::kScope);
}

TEST(PolicyTest, ServiceReadsWhatItsSystemScopesGrant) {
  TableRelations rel;
  const Principal s = Make(Role::kService, "system/*.read", "org1");
  EXPECT_TRUE(DecideResource(s, Obs("pa"), kRead, rel).allowed());
  EXPECT_EQ(DecideResource(s, Obs("pa"), kWrite, rel).verdict, Verdict::kScope);
  EXPECT_TRUE(ReadsWholeType(s, ""));
  EXPECT_TRUE(ReadsWholeType(s, "Observation"));
  EXPECT_FALSE(ReadsWholeType(Make(Role::kService, "system/Observation.read", "org1"), ""));
  EXPECT_FALSE(ReadsWholeType(Make(Role::kPractitioner, "user/*.*", "org1"), "Observation"));
  EXPECT_TRUE(ReadsWholeType(Make(Role::kAuditor, "user/AuditEvent.read"), "AuditEvent"));
}

TEST(PolicyTest, PractitionerRegistersPatientsAndAdmitsAtTheirOwnOrganization) {
  TableRelations rel;
  const Principal d = Make(Role::kPractitioner, "user/*.*", "org1");
  EXPECT_TRUE(
      DecideResource(d, {"Patient", "new", {"new"}, {}, ""}, {Action::kWrite, false, true}, rel)
          .allowed());
  EXPECT_FALSE(DecideResource(d, {"Patient", "old", {"old"}, {}, ""}, kWrite, rel).allowed());
  EXPECT_TRUE(DecideResource(d, {"Encounter", "e", {"pb"}, {"org1"}, ""}, kWrite, rel).allowed());
  EXPECT_FALSE(DecideResource(d, {"Encounter", "e", {"pb"}, {"org2"}, ""}, kWrite, rel).allowed());
}

}  // namespace
}  // namespace medhub::security
