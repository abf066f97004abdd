// Attacks on the served FHIR API (docs/security.md, "Threat model"): each is refused with
// 401, 403 or 404 and leaves an AuditEvent. The real binary, real tokens; forged tokens are
// signed with the server's own key file where the attack needs a valid signature.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "core/json.h"
#include "security/base64.h"
#include "security/jwt.h"
#include "security/signing_key.h"
#include "support/secure_server.h"
#include "support/tokens.h"

namespace medhub {
namespace {

using testing::ClientResponse;
using testing::HttpClient;

class SecurityAttackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::SecureServer(MEDHUB_BINARY, MEDHUB_TEST_DATA "/access_fixture.ndjson");
    start_error_ = new std::string(server_->Start());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete start_error_;
  }
  void SetUp() override { ASSERT_EQ(*start_error_, ""); }

  // AuditEvents with outcome 4 (refused) so far, as the auditor sees them.
  static int64_t RefusedAudits() {
    auto c = server_->Client("auditor");
    auto r = c->Get("/fhir/AuditEvent?outcome=4&_summary=count");
    auto doc = json::Parse(r.body);
    if (r.status != 200 || !doc.ok()) return -1;
    return doc->find("total")->as_int().value_or(-1);
  }

  // Sends one request with exactly the given Authorization header value ("" for none) and
  // checks its status and that exactly one refused AuditEvent was added.
  static ClientResponse Attack(const std::string& authorization, const std::string& method,
                               const std::string& path, int expect, const std::string& body = "") {
    const int64_t before = RefusedAudits();
    HttpClient c("127.0.0.1", server_->port());
    std::vector<std::pair<std::string, std::string>> headers;
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    ClientResponse r = c.Send(method, path, body, headers);
    EXPECT_EQ(r.status, expect) << method << " " << path << "\n" << r.body.substr(0, 400);
    EXPECT_EQ(RefusedAudits(), before + 1) << "no AuditEvent for " << method << " " << path;
    return r;
  }

  // A token signed with the server's key, with the given changes to patient-a's claims.
  static std::string Signed(const std::function<void(security::Claims*)>& change) {
    auto key = security::LoadOrCreateSigningKey(server_->data_dir());
    EXPECT_TRUE(key.ok());
    security::JwtCodec codec(std::move(key).value());
    security::Claims c;
    c.issuer = "medhub";
    c.audience = "medhub";
    c.subject = "patient-a";
    c.issued_at = std::time(nullptr) - 10;
    c.not_before = c.issued_at;
    c.expires_at = c.issued_at + 600;
    c.token_id = "forged-" + std::to_string(std::rand());
    c.role = security::Role::kPatient;
    c.patient = "pa";
    c.client_id = "patient-a";
    c.scope = "patient/*.read";
    change(&c);
    return codec.Encode(c).value();
  }

  static testing::SecureServer* server_;
  static std::string* start_error_;
};
testing::SecureServer* SecurityAttackTest::server_ = nullptr;
std::string* SecurityAttackTest::start_error_ = nullptr;

TEST_F(SecurityAttackTest, ATokenSignedByTheServerIsAcceptedSoTheForgeriesBelowFailOnTheirFlaw) {
  const std::string good = Signed([](security::Claims*) {});
  HttpClient c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Send("GET", "/fhir/Patient/pa", "", {{"Authorization", "Bearer " + good}}).status,
            200);
}

TEST_F(SecurityAttackTest, NoTokenIsUnauthenticatedWithABearerChallenge) {
  const auto r = Attack("", "GET", "/fhir/Patient/pa", 401);
  EXPECT_EQ(r.header("www-authenticate").rfind("Bearer realm=\"medhub\"", 0), 0u);
  Attack("", "POST", "/fhir", 401, R"({"resourceType":"Bundle","type":"batch"})");
  Attack("", "GET", "/fhir/_history", 401);
}

TEST_F(SecurityAttackTest, AForgedSignatureIsRefused) {
  std::string token = server_->Token("patient-a");
  const size_t dot = token.rfind('.');
  // Flip one character in the middle of the signature.
  char& c = token[dot + 10];
  c = c == 'A' ? 'B' : 'A';
  const auto r = Attack("Bearer " + token, "GET", "/fhir/Patient/pa", 401);
  EXPECT_NE(r.header("www-authenticate").find("invalid_token"), std::string::npos);
}

TEST_F(SecurityAttackTest, AnExpiredTokenIsRefused) {
  const std::string expired = Signed([](security::Claims* c) {
    c->issued_at -= 3600;
    c->not_before = c->issued_at;
    c->expires_at = c->issued_at + 60;
  });
  Attack("Bearer " + expired, "GET", "/fhir/Patient/pa", 401);
}

TEST_F(SecurityAttackTest, ATamperedPayloadIsRefused) {
  const std::string token = server_->Token("patient-a");
  const size_t a = token.find('.'), b = token.rfind('.');
  std::string payload = security::Base64UrlDecode(token.substr(a + 1, b - a - 1)).value();
  const size_t at = payload.find("\"role\":\"patient\"");
  ASSERT_NE(at, std::string::npos) << payload;
  payload.replace(at, 16, "\"role\":\"service\"");
  const std::string tampered =
      token.substr(0, a + 1) + security::Base64UrlEncode(payload) + token.substr(b);
  Attack("Bearer " + tampered, "GET", "/fhir/Patient/pb", 401);
}

TEST_F(SecurityAttackTest, ARevokedTokenIsRefused) {
  HttpClient c("127.0.0.1", server_->port());
  const std::string token = testing::ClientToken(c, "patient-a", server_->Secret("patient-a"));
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(c.Send("GET", "/fhir/Patient/pa", "", {{"Authorization", "Bearer " + token}}).status,
            200);
  const auto revoked = c.Send("POST", "/auth/revoke", "token=" + token,
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  Attack("Bearer " + token, "GET", "/fhir/Patient/pa", 401);
}

TEST_F(SecurityAttackTest, ATokenForAnotherAudienceOrIssuerIsRefused) {
  Attack("Bearer " + Signed([](security::Claims* c) { c->audience = "another-service"; }), "GET",
         "/fhir/Patient/pa", 401);
  Attack("Bearer " + Signed([](security::Claims* c) { c->issuer = "evil"; }), "GET",
         "/fhir/Patient/pa", 401);
}

TEST_F(SecurityAttackTest, ScopeEscalationIsRefusedAtTheTokenEndpointAndOnTheApi) {
  HttpClient c("127.0.0.1", server_->port());
  const auto r = c.Send("POST", "/auth/token",
                        "grant_type=client_credentials&client_id=patient-c&client_secret=" +
                            server_->Secret("patient-c") + "&scope=user/*.*",
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid_scope"), std::string::npos);
  // patient-c holds patient/*.read only: writing is refused even in its own record.
  Attack("Bearer " + server_->Token("patient-c"), "POST", "/fhir/Observation", 403,
         R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
         R"("subject":{"reference":"Patient/pc"}})");
  // A token whose claims name a scope beyond the role is still bounded by the policy.
  Attack("Bearer " + Signed([](security::Claims* claims) { claims->scope = "patient/*.*"; }), "GET",
         "/fhir/Observation/obs-b1", 404);
}

TEST_F(SecurityAttackTest, ConsentRevokedThenAccessIsRefused) {
  auto dr = server_->Client("dr-b");
  ASSERT_EQ(dr->Get("/fhir/Observation/obs-b1").status, 200);
  auto patient = server_->Client("patient-b");
  const auto revoked = patient->Send(
      "PUT", "/fhir/Consent/consent-b",
      R"({"resourceType":"Consent","id":"consent-b","status":"inactive","scope":{"text":"x"},)"
      R"("category":[{"text":"access"}],"patient":{"reference":"Patient/pb"},"provision":)"
      R"({"type":"permit","actor":[{"reference":{"reference":"Organization/org-b"}}]}})");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  Attack("Bearer " + server_->Token("dr-b"), "GET", "/fhir/Observation/obs-b1", 404);
}

TEST_F(SecurityAttackTest, PatientGuessingAnotherPatientsIdsLearnsNothing) {
  const std::string bearer = "Bearer " + server_->Token("patient-a");
  const auto existing = Attack(bearer, "GET", "/fhir/Observation/obs-b1", 404);
  const auto missing = Attack(bearer, "GET", "/fhir/Observation/obs-zz", 404);
  // The same answer, but for the id it names.
  std::string a = existing.body, b = missing.body;
  a.replace(a.find("obs-b1"), 6, "X");
  b.replace(b.find("obs-zz"), 6, "X");
  EXPECT_EQ(a, b);
  Attack(bearer, "GET", "/fhir/Patient/pb/$everything", 404);
  Attack(bearer, "GET", "/fhir/Patient/pb/_history", 404);
  Attack(bearer, "GET", "/fhir/Observation/obs-b1/_history/1", 404);
}

TEST_F(SecurityAttackTest, InjectionStringsInSearchParametersLeakNothing) {
  auto c = server_->Client("patient-a");
  for (const char* query :
       {"/fhir/Patient?name=%27%20OR%20%271%27%3D%271", "/fhir/Patient?name=%00B%27eta",
        "/fhir/Observation?patient=Patient/pb%27--", "/fhir/Observation?patient=pb&patient=pa",
        "/fhir/Observation?_include=*", "/fhir/Observation?subject=Patient/pb",
        "/fhir/Observation?_sort=;DROP%20TABLE", "/fhir/Patient?_id=pb",
        "/fhir/Patient?name=%3Cscript%3Ealert(1)%3C/script%3E",
        "/fhir/Observation?patient=Patient/../Patient/pb", "/fhir/Observation?code=%25%25%25"}) {
    const auto r = c->Get(query);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << query << " " << r.status;
    EXPECT_EQ(r.body.find("Beta"), std::string::npos) << query;
    EXPECT_EQ(r.body.find("\"id\":\"obs-b1\""), std::string::npos) << query;
    EXPECT_EQ(r.body.find("\"id\":\"pb\""), std::string::npos) << query;
  }
  EXPECT_EQ(c->Get("/fhir/Patient/pa").status, 200);  // still serving
}

TEST_F(SecurityAttackTest, HugeAndMalformedAuthorizationHeadersAreRefused) {
  Attack("Bearer " + std::string(9000, 'a'), "GET", "/fhir/Patient/pa", 401);
  Attack("Basic cGF0aWVudC1hOnNlY3JldA==", "GET", "/fhir/Patient/pa", 401);
  Attack("Bearer", "GET", "/fhir/Patient/pa", 401);
  Attack("Bearer a b", "GET", "/fhir/Patient/pa", 401);
  Attack("Bearer ..", "GET", "/fhir/Patient/pa", 401);
  Attack("Bearer tok!en", "GET", "/fhir/Patient/pa", 401);
  Attack("bearer  " + server_->Token("patient-a"), "GET", "/fhir/Patient/pa", 401);
  // Control characters are refused by the HTTP parser itself (400), a header over 64 KiB
  // too (431), before any handler; the server still puts each in the audit trail.
  int64_t before = RefusedAudits();
  HttpClient raw("127.0.0.1", server_->port());
  EXPECT_EQ(raw.Send("GET", "/fhir/Patient/pa", "", {{"Authorization", "Bearer \x01\x02"}}).status,
            400);
  EXPECT_EQ(RefusedAudits(), before + 1) << "no AuditEvent for a malformed request";
  before = RefusedAudits();
  HttpClient big("127.0.0.1", server_->port());
  EXPECT_EQ(big.Send("GET", "/fhir/Patient/pa", "", {{"X-Big", std::string(70'000, 'a')}}).status,
            431);
  EXPECT_EQ(RefusedAudits(), before + 1) << "no AuditEvent for an oversized header";
  // Two Authorization headers.
  before = RefusedAudits();
  HttpClient c("127.0.0.1", server_->port());
  const auto two = c.Send("GET", "/fhir/Patient/pa", "",
                          {{"Authorization", "Bearer " + server_->Token("patient-a")},
                           {"Authorization", "Bearer " + server_->Token("dr-a")}});
  EXPECT_EQ(two.status, 401);
  EXPECT_EQ(RefusedAudits(), before + 1);
}

TEST_F(SecurityAttackTest, RefusedRequestsOutsideFhirAreAuditedToo) {
  const std::string patient = "Bearer " + server_->Token("patient-a");
  Attack("", "GET", "/api/mpi/review", 401);
  Attack(patient, "GET", "/api/mpi/review", 403);
  Attack("", "GET", "/fhir/$export", 401);
  Attack(patient, "GET", "/fhir/$export", 403);
  Attack("", "POST", "/api/devices/d1/readings", 401, R"({"readings":[]})");
}

TEST_F(SecurityAttackTest, AuditEventsCannotBeChangedOrDeletedThroughTheApi) {
  ASSERT_EQ(server_->Client("patient-a")->Get("/fhir/Patient/pa").status, 200);  // one event
  auto auditor = server_->Client("auditor");
  const auto list = auditor->Get("/fhir/AuditEvent?_count=1");
  auto doc = json::Parse(list.body);
  ASSERT_TRUE(doc.ok());
  ASSERT_NE(doc->find("entry"), nullptr) << list.body;
  const std::string id(doc->find("entry")->items()[0].find("resource")->get_string("id"));
  for (const char* who : {"auditor", "service", "dr-a", "patient-a"}) {
    Attack("Bearer " + server_->Token(who), "DELETE", "/fhir/AuditEvent/" + id, 405);
    Attack("Bearer " + server_->Token(who), "PUT", "/fhir/AuditEvent/" + id, 405,
           R"({"resourceType":"AuditEvent","id":")" + id + R"("})");
  }
  Attack("Bearer " + server_->Token("dr-a"), "POST", "/fhir", 403,
         R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":)"
         R"({"method":"DELETE","url":"AuditEvent/)" +
             id + R"("}}]})");
  EXPECT_EQ(auditor->Get("/fhir/AuditEvent/" + id).status, 200);
}

}  // namespace
}  // namespace medhub
