// TokenService against a real store: issue, verify, refresh rotation, revocation, expiry.
#include "security/token.h"

#include <gtest/gtest.h>

#include <string>

#include "security/test_util.h"

namespace medhub::security {
namespace {

Grant AliceGrant() {
  Grant g;
  g.subject = "alice";
  g.role = Role::kPractitioner;
  g.organization = "org-1";
  g.scopes = *ParseScopes("user/*.read offline_access");
  return g;
}

class TokenTest : public ::testing::Test {
 protected:
  TokenService Service(TokenOptions options = {}) {
    return TokenService(store_.get(), key_, std::move(options));
  }
  // A check that grants the record's own subject and scopes.
  static Result<Grant> Same(const RefreshRecord& r) {
    Grant g = AliceGrant();
    g.subject = r.subject;
    return g;
  }

  TempStore store_;
  PrivateKey key_ = *PrivateKey::Generate();
};

void ExpectUnauthenticated(const Result<Principal>& r, std::string_view reason) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
}

TEST_F(TokenTest, AnIssuedAccessTokenVerifiesToItsPrincipal) {
  TokenService tokens = Service();
  auto issued = tokens.Issue(AliceGrant(), true, kTestNow);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->expires_in, 900);
  EXPECT_EQ(issued->refresh_token.size(), 43u);
  auto p = tokens.Verify(issued->access_token, kTestNow + 10 * kSecond);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->subject, "alice");
  EXPECT_EQ(p->role, Role::kPractitioner);
  EXPECT_EQ(p->organization, "org-1");
  EXPECT_EQ(FormatScopes(p->scopes), "user/*.read offline_access");
  EXPECT_EQ(p->expires_at, kTestNow / kSecond + 900);
  EXPECT_FALSE(p->session.empty());
  EXPECT_EQ(p->token_id, issued->claims.token_id);
}

TEST_F(TokenTest, EveryTokenHasItsOwnId) {
  TokenService tokens = Service();
  auto a = tokens.Issue(AliceGrant(), false, kTestNow);
  auto b = tokens.Issue(AliceGrant(), false, kTestNow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->claims.token_id, b->claims.token_id);
  EXPECT_NE(a->access_token, b->access_token);
  EXPECT_TRUE(a->refresh_token.empty());
}

TEST_F(TokenTest, AnExpiredTokenIsRejected) {
  TokenService tokens = Service();
  const std::string t = tokens.Issue(AliceGrant(), false, kTestNow)->access_token;
  EXPECT_TRUE(tokens.Verify(t, kTestNow + 899 * kSecond).ok());
  ExpectUnauthenticated(tokens.Verify(t, kTestNow + 900 * kSecond), "token expired");
}

TEST_F(TokenTest, ATokenUsedBeforeItsNotBeforeTimeIsRejected) {
  TokenService tokens = Service();
  const std::string t = tokens.Issue(AliceGrant(), false, kTestNow)->access_token;
  ExpectUnauthenticated(tokens.Verify(t, kTestNow - 5 * kSecond), "not yet valid");
  TokenOptions lenient;
  lenient.leeway_seconds = 10;
  EXPECT_TRUE(Service(lenient).Verify(t, kTestNow - 5 * kSecond).ok());
}

TEST_F(TokenTest, ATokenForAnotherAudienceOrIssuerIsRejected) {
  TokenOptions other_audience;
  other_audience.audience = "another-service";
  const std::string t = Service(other_audience).Issue(AliceGrant(), false, kTestNow)->access_token;
  ExpectUnauthenticated(Service().Verify(t, kTestNow), "audience 'another-service'");
  TokenOptions other_issuer;
  other_issuer.issuer = "https://elsewhere.example";
  const std::string u = Service(other_issuer).Issue(AliceGrant(), false, kTestNow)->access_token;
  ExpectUnauthenticated(Service().Verify(u, kTestNow), "issuer");
}

TEST_F(TokenTest, ATokenSignedByAnotherKeyIsRejected) {
  TokenService theirs(store_.get(), *PrivateKey::Generate(), {});
  const std::string t = theirs.Issue(AliceGrant(), false, kTestNow)->access_token;
  ExpectUnauthenticated(Service().Verify(t, kTestNow), "unknown key id");
}

TEST_F(TokenTest, ARevokedAccessTokenIsRejectedAndOthersAreNot) {
  TokenService tokens = Service();
  const std::string a = tokens.Issue(AliceGrant(), false, kTestNow)->access_token;
  const std::string b = tokens.Issue(AliceGrant(), false, kTestNow)->access_token;
  ASSERT_TRUE(tokens.RevokeAccessToken(a, kTestNow).ok());
  ExpectUnauthenticated(tokens.Verify(a, kTestNow), "token revoked");
  EXPECT_TRUE(tokens.Verify(b, kTestNow).ok());
}

TEST_F(TokenTest, ATokenVerifiedBeforeIsStillCheckedForRevocationAndAlteredCopiesFail) {
  TokenService tokens = Service();
  const std::string t = tokens.Issue(AliceGrant(), false, kTestNow)->access_token;
  ASSERT_TRUE(tokens.Verify(t, kTestNow).ok());  // now remembered
  std::string altered = t;
  altered[altered.rfind('.') + 5] ^= 1;  // one signature character
  ExpectUnauthenticated(tokens.Verify(altered, kTestNow), "invalid token");
  ASSERT_TRUE(tokens.RevokeAccessToken(t, kTestNow).ok());
  ExpectUnauthenticated(tokens.Verify(t, kTestNow), "token revoked");
  ExpectUnauthenticated(tokens.Verify(t, kTestNow + 900 * kSecond), "token expired");
}

TEST_F(TokenTest, RevokingGarbageOrForeignTokensIsANoOp) {
  TokenService tokens = Service();
  EXPECT_TRUE(tokens.RevokeAccessToken("garbage", kTestNow).ok());
  EXPECT_TRUE(tokens.RevokeRefreshToken("garbage", kTestNow).ok());
  EXPECT_TRUE(tokens.RevokeRefreshToken(std::string(43, 'A'), kTestNow).ok());
}

TEST_F(TokenTest, RefreshingRotatesTheRefreshTokenAndKeepsTheSession) {
  TokenService tokens = Service();
  const IssuedTokens first = *tokens.Issue(AliceGrant(), true, kTestNow);
  auto second = tokens.Refresh(first.refresh_token, kTestNow + 60 * kSecond, Same);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->refresh_token, first.refresh_token);
  EXPECT_NE(second->access_token, first.access_token);
  EXPECT_EQ(second->claims.session, first.claims.session);
  EXPECT_TRUE(tokens.Verify(second->access_token, kTestNow + 61 * kSecond).ok());
  auto third = tokens.Refresh(second->refresh_token, kTestNow + 120 * kSecond, Same);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(TokenTest, ReusingARotatedRefreshTokenRevokesTheWholeSession) {
  TokenService tokens = Service();
  const IssuedTokens first = *tokens.Issue(AliceGrant(), true, kTestNow);
  const IssuedTokens second = *tokens.Refresh(first.refresh_token, kTestNow + kSecond, Same);
  // An attacker replays the first refresh token.
  auto replay = tokens.Refresh(first.refresh_token, kTestNow + 2 * kSecond, Same);
  ASSERT_FALSE(replay.ok());
  EXPECT_NE(replay.status().message().find("already used"), std::string::npos);
  // Now neither the legitimate refresh token nor the session's access tokens work.
  EXPECT_EQ(tokens.Refresh(second.refresh_token, kTestNow + 3 * kSecond, Same).status().code(),
            StatusCode::kUnauthenticated);
  ExpectUnauthenticated(tokens.Verify(second.access_token, kTestNow + 3 * kSecond), "revoked");
  ExpectUnauthenticated(tokens.Verify(first.access_token, kTestNow + 3 * kSecond), "revoked");
  // Another session of the same user is untouched.
  const IssuedTokens other = *tokens.Issue(AliceGrant(), true, kTestNow);
  EXPECT_TRUE(tokens.Verify(other.access_token, kTestNow + 3 * kSecond).ok());
}

TEST_F(TokenTest, AFailedRefreshCheckDoesNotUseUpTheToken) {
  TokenService tokens = Service();
  const IssuedTokens first = *tokens.Issue(AliceGrant(), true, kTestNow);
  auto refused = tokens.Refresh(first.refresh_token, kTestNow, [](const RefreshRecord&) {
    return Result<Grant>(Status::InvalidArgument("scope not granted"));
  });
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(tokens.Refresh(first.refresh_token, kTestNow, Same).ok());
}

TEST_F(TokenTest, TheRefreshCheckSeesTheStoredGrant) {
  TokenService tokens = Service();
  const IssuedTokens first = *tokens.Issue(AliceGrant(), true, kTestNow);
  RefreshRecord seen;
  ASSERT_TRUE(tokens
                  .Refresh(first.refresh_token, kTestNow + kSecond,
                           [&](const RefreshRecord& r) {
                             seen = r;
                             return Same(r);
                           })
                  .ok());
  EXPECT_EQ(seen.subject, "alice");
  EXPECT_EQ(seen.scope, "user/*.read offline_access");
  EXPECT_EQ(seen.session, first.claims.session);
  EXPECT_EQ(seen.issued_at, kTestNow);
}

TEST_F(TokenTest, RefreshTokensExpireWhenIdleAndWhenTheSessionEnds) {
  TokenOptions options;
  options.refresh_token_seconds = 3600;
  options.session_seconds = 5400;
  TokenService tokens = Service(options);
  const IssuedTokens first = *tokens.Issue(AliceGrant(), true, kTestNow);
  auto late = tokens.Refresh(first.refresh_token, kTestNow + 3600 * kSecond, Same);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);

  const IssuedTokens a = *tokens.Issue(AliceGrant(), true, kTestNow);
  const IssuedTokens b = *tokens.Refresh(a.refresh_token, kTestNow + 3000 * kSecond, Same);
  // b would be good until +6600 s when idle, but the session ends at +5400 s.
  EXPECT_TRUE(tokens.Refresh(b.refresh_token, kTestNow + 5400 * kSecond, Same)
                  .status()
                  .message()
                  .find("expired") != std::string::npos);
}

TEST_F(TokenTest, UnknownOrMalformedRefreshTokensAreUnauthenticated) {
  TokenService tokens = Service();
  for (const std::string& t :
       {std::string(), std::string("short"), std::string(43, 'A'), std::string(43, '=')}) {
    EXPECT_EQ(tokens.Refresh(t, kTestNow, Same).status().code(), StatusCode::kUnauthenticated);
  }
}

TEST_F(TokenTest, RevokingARefreshTokenEndsItsSessionAndItsAccessTokens) {
  TokenService tokens = Service();
  const IssuedTokens issued = *tokens.Issue(AliceGrant(), true, kTestNow);
  ASSERT_TRUE(tokens.RevokeRefreshToken(issued.refresh_token, kTestNow).ok());
  EXPECT_EQ(tokens.Refresh(issued.refresh_token, kTestNow, Same).status().code(),
            StatusCode::kUnauthenticated);
  ExpectUnauthenticated(tokens.Verify(issued.access_token, kTestNow), "session was ended");
}

TEST_F(TokenTest, PruningDeletesOnlyExpiredRecords) {
  TokenOptions options;
  options.refresh_token_seconds = 3600;
  TokenService tokens = Service(options);
  const IssuedTokens a = *tokens.Issue(AliceGrant(), true, kTestNow);
  const IssuedTokens b = *tokens.Issue(AliceGrant(), true, kTestNow + 1800 * kSecond);
  ASSERT_TRUE(tokens.RevokeAccessToken(a.access_token, kTestNow).ok());
  // At +3600 s: a's refresh record and a's jti revocation (exp +900 s) are due; b's is not.
  auto pruned = tokens.PruneExpired(kTestNow + 3600 * kSecond);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 2u);
  EXPECT_TRUE(tokens.Refresh(b.refresh_token, kTestNow + 3600 * kSecond, Same).ok());
  auto rest = store_.get()->ScanRecords("security/");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 2u);  // b's used record and its successor
}

}  // namespace
}  // namespace medhub::security
