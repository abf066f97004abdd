#include "security/audit.h"

#include <gtest/gtest.h>

#include <string>

namespace medhub::security {
namespace {

TEST(AuditRecordFor, TakesWhoFromThePrincipalAndWhatFromTheExchange) {
  Principal p;
  p.subject = "dr-lee";
  p.role = Role::kPractitioner;
  p.organization = "org-1";
  p.client_id = "portal";
  const AuditRecord r = AuditRecordFor(&p, 42, "127.0.0.1:5000", "read", "GET",
                                       "/fhir/Patient/p1", 200, "{\"resourceType\":\"Patient\"}");
  EXPECT_EQ(r.who, "dr-lee");
  EXPECT_EQ(r.role, "practitioner");
  EXPECT_EQ(r.organization, "org-1");
  EXPECT_EQ(r.client_id, "portal");
  EXPECT_EQ(r.time, 42);
  EXPECT_EQ(r.remote_address, "127.0.0.1:5000");
  EXPECT_EQ(r.interaction, "read");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/fhir/Patient/p1");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_TRUE(r.outcome_detail.empty()) << "a success keeps no body";
}

TEST(AuditRecordFor, LeavesWhoEmptyWithoutATokenAndKeepsTheRefusalTruncated) {
  const std::string body(2000, 'x');
  const std::string target(3000, 'y');
  const AuditRecord r = AuditRecordFor(nullptr, 1, "10.0.0.1:1", "search-type", "GET", target,
                                       401, body);
  EXPECT_TRUE(r.who.empty());
  EXPECT_TRUE(r.role.empty());
  EXPECT_EQ(r.target.size(), 1024u);
  EXPECT_EQ(r.outcome_detail.size(), 512u);
}

TEST(BuildAuditEvent, RecordsOutcomeAgentAndPatientEntities) {
  Principal p;
  p.subject = "nurse";
  p.role = Role::kPractitioner;
  AuditRecord r = AuditRecordFor(&p, 0, "127.0.0.1:1", "read", "GET", "/fhir/Patient/p1", 403,
                                 "no care relation");
  r.patients = {"p1"};
  const json::Value ev = BuildAuditEvent(r, "a1");
  const std::string text = json::Serialize(ev);
  EXPECT_NE(text.find("\"resourceType\":\"AuditEvent\""), std::string::npos);
  EXPECT_NE(text.find("\"id\":\"a1\""), std::string::npos);
  EXPECT_NE(text.find("403 no care relation"), std::string::npos);
  EXPECT_NE(text.find("Patient/p1"), std::string::npos);
  EXPECT_NE(text.find("nurse"), std::string::npos);
}

TEST(BuildAuditEvent, RecordsAnHl7MessageAsAnImportFromItsPeer) {
  AuditRecord r = AuditRecordFor(nullptr, 0, "10.1.2.3:2575", "hl7v2-message", "MLLP",
                                 "ORU^R01 MSG7 from LAB", 200, "");
  r.hl7_message_type = "ORU^R01";
  r.patients = {"h1"};
  r.resources = {"Patient/h1", "Observation/h2"};
  const std::string text = json::Serialize(BuildAuditEvent(r, "a2"));
  EXPECT_NE(text.find("\"code\":\"110107\""), std::string::npos) << text;
  EXPECT_NE(text.find("v2-0003\",\"code\":\"R01\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"action\":\"C\""), std::string::npos);
  EXPECT_NE(text.find("\"address\":\"10.1.2.3\""), std::string::npos);
  EXPECT_NE(text.find("medhub MLLP listener"), std::string::npos);
  EXPECT_NE(text.find("Observation/h2"), std::string::npos);
  EXPECT_NE(text.find("ORU^R01 MSG7 from LAB"), std::string::npos);
  EXPECT_EQ(text.find("restful-interaction"), std::string::npos);
}

}  // namespace
}  // namespace medhub::security
