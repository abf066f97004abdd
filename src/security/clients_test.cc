#include "security/clients.h"

#include <gtest/gtest.h>

#include <string>

#include "security/test_util.h"

namespace medhub::security {
namespace {

Client Cuff() {
  Client c;
  c.client_id = "bp-cuff-7";
  c.role = Role::kDevice;
  c.patient = "p-1";
  c.device = "d-7";
  c.scopes = *ParseScopes("patient/Observation.write");
  return c;
}

class ClientsTest : public ::testing::Test {
 protected:
  TempStore store_;
  Clients clients_{store_.get()};
};

TEST_F(ClientsTest, AddReturnsASecretThatAuthenticatesTheClient) {
  auto secret = clients_.Add(Cuff(), kTestNow);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->size(), 43u);
  auto c = clients_.Authenticate("bp-cuff-7", *secret);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->role, Role::kDevice);
  EXPECT_EQ(c->device, "d-7");
  EXPECT_EQ(FormatScopes(c->scopes), "patient/Observation.write");
  auto raw = store_.get()->GetRecord("security/client/bp-cuff-7");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ(raw->value().find(*secret), std::string::npos);
}

TEST_F(ClientsTest, WrongSecretsUnknownClientsAndDisabledClientsAreAllInvalidClient) {
  const std::string secret = *clients_.Add(Cuff(), kTestNow);
  for (const Status& s : {clients_.Authenticate("bp-cuff-7", secret + "x").status(),
                          clients_.Authenticate("bp-cuff-7", "").status(),
                          clients_.Authenticate("nobody", secret).status(),
                          clients_.Authenticate("BAD ID", secret).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(s.message(), kInvalidClient);
  }
  ASSERT_TRUE(clients_.Disable("bp-cuff-7").ok());
  EXPECT_EQ(clients_.Authenticate("bp-cuff-7", secret).status().message(), kInvalidClient);
}

TEST_F(ClientsTest, AClientCannotBeRegisteredWithScopesBeyondItsRole) {
  Client c = Cuff();
  c.scopes = *ParseScopes("patient/Observation.write user/*.read");
  const Status s = clients_.Add(c, kTestNow).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("user/*.read"), std::string::npos);
  c.scopes.clear();
  EXPECT_EQ(clients_.Add(c, kTestNow).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientsTest, ClientIdsAreUniqueAndWellFormed) {
  ASSERT_TRUE(clients_.Add(Cuff(), kTestNow).ok());
  EXPECT_EQ(clients_.Add(Cuff(), kTestNow).status().code(), StatusCode::kAlreadyExists);
  Client c = Cuff();
  c.client_id = "Bad Id";
  EXPECT_EQ(clients_.Add(c, kTestNow).status().code(), StatusCode::kInvalidArgument);
  auto list = clients_.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].client_id, "bp-cuff-7");
}

}  // namespace
}  // namespace medhub::security
