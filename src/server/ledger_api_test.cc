#include "server/ledger_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ledger/ledger_writer.h"
#include "ledger/test_util.h"
#include "server/fhir_api.h"

namespace medhub::server {
namespace {

using ledger::testing::CheckVerifyParameters;
using ledger::testing::FromHex;
using ledger::testing::TempDir;

class LedgerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::OpenRocksStore({dir_ / "data"}).value();
    ledger::LedgerOptions options;
    options.dir = dir_ / "data/ledger";
    ledger_ = ledger::Ledger::Open(options).value();
    writer_ = std::make_unique<ledger::LedgerWriter>(store_.get(), ledger_.get());
    writer_->Start();
    ledger_api_ = std::make_unique<LedgerApi>(ledger_.get(), store_.get());
    fhir_ = std::make_unique<FhirApi>(store_.get(),
                                      FhirApiOptions{"http://test/fhir", ledger_api_.get()});
    for (int i = 0; i < 3; ++i)
      Put("Patient", "p1",
          R"("gender":"female","birthDate":"19)" + std::to_string(50 + i) + R"(-01-01")");
    Put("Consent", "c1", R"("status":"active","scope":{"text":"x"},"category":[{"text":"y"}])");
    HttpRequest del;
    del.method = "DELETE";
    del.path = "/fhir/Patient/p2";
    Put("Patient", "p2", R"("gender":"male")");
    const int deleted = fhir_->Handle(del).status;
    ASSERT_TRUE(deleted == 200 || deleted == 204) << deleted;
    ASSERT_TRUE(writer_->WaitForSequence(store_->LastSequence(), std::chrono::seconds(10)).ok());
  }
  void TearDown() override { ASSERT_TRUE(writer_->Stop().ok()); }

  void Put(const std::string& type, const std::string& id, const std::string& fields) {
    HttpRequest req;
    req.method = "PUT";
    req.path = "/fhir/" + type + "/" + id;
    req.headers.emplace_back("content-type", "application/fhir+json");
    req.body = R"({"resourceType":")" + type + R"(","id":")" + id + R"(",)" + fields + "}";
    const HttpResponse r = fhir_->Handle(req);
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  HttpResponse Get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> query = {}) {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.query = std::move(query);
    return path.starts_with("/ledger") ? ledger_api_->Handle(req) : fhir_->Handle(req);
  }

  json::Value GetJson(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> query = {}) {
    const HttpResponse r = Get(path, std::move(query));
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::Parse(r.body).value();
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ledger::LedgerWriter> writer_;
  std::unique_ptr<LedgerApi> ledger_api_;
  std::unique_ptr<FhirApi> fhir_;
};

TEST_F(LedgerApiTest, TheHeadIsSignedByThePublishedKey) {
  const json::Value head = GetJson("/ledger/head");
  EXPECT_EQ(head.find("tree_size")->as_int(), 1 + 6);  // MemberAdded + 6 versions
  EXPECT_EQ(head.get_string("signer"), "local");
  const PublicKey key = PublicKey::FromHex(head.get_string("public_key")).value();
  EXPECT_EQ(key, ledger_->public_key());
  const std::string bytes = FromHex(head.get_string("tree_head")).value();
  EXPECT_TRUE(key.Verify(bytes, FromHex(head.get_string("signature")).value()).ok());
  const ledger::TreeHead decoded = ledger::DecodeTreeHead(bytes).value();
  EXPECT_EQ(ToHex(decoded.root), head.get_string("root"));
}

TEST_F(LedgerApiTest, BlocksListTheirDecodedEntries) {
  const json::Value block0 = GetJson("/ledger/blocks/0");
  EXPECT_EQ(block0.find("entries")->items()[0].get_string("kind"), "MemberAdded");
  const json::Value block1 = GetJson("/ledger/blocks/1");
  const json::Value& entry = block1.find("entries")->items()[0];
  EXPECT_EQ(entry.get_string("kind"), "RecordCommitted");
  EXPECT_EQ(entry.get_string("type"), "Patient");
  EXPECT_EQ(block1.get_string("previous_hash"), block0.get_string("hash"));
}

TEST_F(LedgerApiTest, InclusionAndConsistencyProofsVerify) {
  const ledger::SignedTreeHead sth = ledger_->Head();
  for (uint64_t leaf = 0; leaf < sth.head.tree_size; ++leaf) {
    const json::Value doc = GetJson("/ledger/proof/inclusion", {{"leaf", std::to_string(leaf)}});
    ledger::Proof proof;
    for (const json::Value& h : doc.find("proof")->items()) {
      proof.push_back(ledger::HashFromHex(h.text()).value());
    }
    const ledger::Hash leaf_hash = ledger::HashFromHex(doc.get_string("leaf_hash")).value();
    EXPECT_TRUE(
        ledger::VerifyInclusion(leaf, sth.head.tree_size, leaf_hash, proof, sth.head.root).ok());
  }
  const json::Value doc = GetJson("/ledger/proof/consistency", {{"first", "2"}});
  ledger::Proof proof;
  for (const json::Value& h : doc.find("proof")->items()) {
    proof.push_back(ledger::HashFromHex(h.text()).value());
  }
  EXPECT_TRUE(ledger::VerifyConsistency(2, sth.head.tree_size, ledger_->RootAt(2).value(),
                                        sth.head.root, proof)
                  .ok());
}

TEST_F(LedgerApiTest, MalformedOrImpossibleRequestsAreClientErrors) {
  EXPECT_EQ(Get("/ledger/blocks/abc").status, 400);
  EXPECT_EQ(Get("/ledger/blocks/-1").status, 400);
  EXPECT_EQ(Get("/ledger/blocks/999").status, 404);
  EXPECT_EQ(Get("/ledger/proof/inclusion").status, 400);
  EXPECT_EQ(Get("/ledger/proof/inclusion", {{"leaf", "99"}}).status, 400);
  EXPECT_EQ(Get("/ledger/proof/inclusion", {{"leaf", "1"}, {"size", "99"}}).status, 400);
  EXPECT_EQ(Get("/ledger/proof/inclusion", {{"leaf", "1"}, {"bogus", "1"}}).status, 400);
  EXPECT_EQ(Get("/ledger/proof/inclusion", {{"leaf", "1"}, {"leaf", "2"}}).status, 400);
  EXPECT_EQ(Get("/ledger/proof/consistency", {{"first", "0"}}).status, 400);
  EXPECT_EQ(Get("/ledger/proof/consistency", {{"first", "5"}, {"second", "3"}}).status, 400);
  EXPECT_EQ(Get("/ledger/nothing").status, 404);
  HttpRequest post;
  post.method = "POST";
  post.path = "/ledger/head";
  EXPECT_EQ(ledger_api_->Handle(post).status, 405);
  const HttpResponse bad = Get("/ledger/blocks/x");
  EXPECT_NE(bad.body.find("OperationOutcome"), std::string::npos);
}

TEST_F(LedgerApiTest, VerifyLetsAClientCheckTheBytesItReadWithThePublicKeyAlone) {
  for (int version = 1; version <= 3; ++version) {
    const std::string vread = "/fhir/Patient/p1/_history/" + std::to_string(version);
    const HttpResponse read = Get(vread);
    ASSERT_EQ(read.status, 200);
    const json::Value params = GetJson(vread + "/$verify");
    EXPECT_EQ(params.get_string("resourceType"), "Parameters");
    EXPECT_TRUE(CheckVerifyParameters(params, read.body, ledger_->public_key()).ok());
    // Other bytes, or another key, do not pass.
    EXPECT_FALSE(CheckVerifyParameters(params, read.body + " ", ledger_->public_key()).ok());
    const PrivateKey other = PrivateKey::Generate().value();
    EXPECT_FALSE(CheckVerifyParameters(params, read.body, other.public_key()).ok());
  }
  const json::Value consent = GetJson("/fhir/Consent/c1/_history/1/$verify");
  EXPECT_TRUE(
      CheckVerifyParameters(consent, Get("/fhir/Consent/c1/_history/1").body, ledger_->public_key())
          .ok());
  const json::Value deleted = GetJson("/fhir/Patient/p2/_history/2/$verify");
  EXPECT_TRUE(CheckVerifyParameters(deleted, "", ledger_->public_key()).ok());
}

TEST_F(LedgerApiTest, VerifyOfAMissingVersionOrWithoutALedgerFails) {
  EXPECT_EQ(Get("/fhir/Patient/p1/_history/9/$verify").status, 404);
  EXPECT_EQ(Get("/fhir/Patient/nobody/_history/1/$verify").status, 404);
  EXPECT_EQ(Get("/fhir/Patient/p1/_history/x/$verify").status, 404);
  EXPECT_EQ(Get("/fhir/Nonsense/p1/_history/1/$verify").status, 404);
  FhirApi without(store_.get(), FhirApiOptions{"http://test/fhir"});
  HttpRequest req;
  req.method = "GET";
  req.path = "/fhir/Patient/p1/_history/1/$verify";
  EXPECT_EQ(without.Handle(req).status, 501);
}

}  // namespace
}  // namespace medhub::server
