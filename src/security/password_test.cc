#include "security/password.h"

#include <gtest/gtest.h>

#include <string>

namespace medhub::security {
namespace {

const PasswordParams kFast = PasswordParams::Minimum();

TEST(PasswordTest, AHashVerifiesItsPasswordAndNoOther) {
  auto hash = HashPassword("correct horse battery staple", kFast);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$")) << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash).ok());
  const Status wrong = VerifyPassword("correct horse battery stapler", *hash);
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyPassword("", *hash).code(), StatusCode::kUnauthenticated);
}

TEST(PasswordTest, HashingTheSamePasswordTwiceGivesDifferentSaltedHashes) {
  auto a = HashPassword("same password", kFast);
  auto b = HashPassword("same password", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword("same password", *b).ok());
}

TEST(PasswordTest, ErrorMessagesNeverContainThePassword) {
  auto hash = HashPassword("s3cret-Pa55", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(VerifyPassword("s3cret-Pa56", *hash).message().find("s3cret"), std::string::npos);
  const Status too_long = HashPassword(std::string(kMaxPasswordBytes + 1, 'x'), kFast).status();
  EXPECT_EQ(too_long.message().find("xxxx"), std::string::npos);
}

TEST(PasswordTest, EmptyAndOverlongPasswordsAreRefusedBeforeHashing) {
  EXPECT_EQ(HashPassword("", kFast).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(kMaxPasswordBytes + 1, 'a'), kFast).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(HashPassword(std::string(kMaxPasswordBytes, 'a'), kFast).ok());
}

TEST(PasswordTest, AStoredValueThatIsNotAnArgon2idHashIsDataLoss) {
  EXPECT_EQ(VerifyPassword("pw", "").code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyPassword("pw", "$argon2i$v=19$m=8,t=3,p=1$c2FsdA$aGFzaA").code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(VerifyPassword("pw", "$argon2id$" + std::string(200, 'a')).code(),
            StatusCode::kDataLoss);
  EXPECT_NE(VerifyPassword("pw", "$argon2id$garbage").code(), StatusCode::kOk);
}

TEST(PasswordTest, AHashMadeWithOtherParametersNeedsRehashing) {
  auto hash = HashPassword("password", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(PasswordNeedsRehash(*hash, kFast));
  PasswordParams stronger = kFast;
  stronger.ops_limit += 1;
  EXPECT_TRUE(PasswordNeedsRehash(*hash, stronger));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash", kFast));
}

TEST(PasswordTest, TheInteractiveProfileIsTwoPassesOver64MiB) {
  const PasswordParams p = PasswordParams::Interactive();
  EXPECT_EQ(p.ops_limit, 2u);
  EXPECT_EQ(p.mem_limit_bytes, size_t{64} << 20);
}

TEST(PasswordTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(PasswordTest, WipeClearsTheSecret) {
  std::string secret = "hunter2";
  Wipe(&secret);
  EXPECT_TRUE(secret.empty());
}

}  // namespace
}  // namespace medhub::security
