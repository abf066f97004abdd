// Accounts against a real store, with an injected clock (the `now` argument).
#include "security/accounts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "security/test_util.h"

namespace medhub::security {
namespace {

AccountsOptions FastOptions() {
  AccountsOptions o;
  o.password_params = PasswordParams::Minimum();
  return o;
}

Account Doctor(std::string username = "dr.house") {
  Account a;
  a.username = std::move(username);
  a.role = Role::kPractitioner;
  a.organization = "princeton";
  return a;
}

constexpr char kPassword[] = "vicodin-1234";

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(accounts_.Add(Doctor(), kPassword, kTestNow).ok()); }

  Status Login(std::string_view password, int64_t now, std::string_view user = "dr.house") {
    return accounts_.Authenticate(user, password, now).status();
  }

  TempStore store_;
  Accounts accounts_{store_.get(), FastOptions()};
};

TEST_F(AccountsTest, AnAddedAccountIsStoredWithAHashNotThePassword) {
  auto a = accounts_.Get("dr.house");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->role, Role::kPractitioner);
  EXPECT_EQ(a->organization, "princeton");
  EXPECT_EQ(a->created, kTestNow);
  EXPECT_TRUE(a->password_hash.starts_with("$argon2id$"));
  auto raw = store_.get()->GetRecord("security/account/dr.house");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ(raw->value().find(kPassword), std::string::npos);
}

TEST_F(AccountsTest, AddingAnExistingUsernameIsAlreadyExists) {
  EXPECT_EQ(accounts_.Add(Doctor(), "another-password", kTestNow).code(),
            StatusCode::kAlreadyExists);
}

TEST_F(AccountsTest, UsernamesAreThreeToSixtyFourOfLowercaseDigitsDotUnderscoreDash) {
  for (const std::string& bad :
       {std::string("ab"), std::string(65, 'a'), std::string("Alice"), std::string("al ice"),
        std::string("al/ice"), std::string("alice@x"), std::string("élise")}) {
    EXPECT_EQ(accounts_.Add(Doctor(bad), kPassword, kTestNow).code(), StatusCode::kInvalidArgument)
        << bad;
  }
  for (const std::string& good :
       {std::string("abc"), std::string(64, 'z'), std::string("a.b_c-9")}) {
    EXPECT_TRUE(accounts_.Add(Doctor(good), kPassword, kTestNow).ok()) << good;
  }
}

TEST_F(AccountsTest, RoleAttributesMustSuitTheRole) {
  Account patient;
  patient.username = "pat";
  patient.role = Role::kPatient;
  EXPECT_EQ(accounts_.Add(patient, kPassword, kTestNow).code(), StatusCode::kInvalidArgument);
  patient.patient = "not a fhir id!";
  EXPECT_EQ(accounts_.Add(patient, kPassword, kTestNow).code(), StatusCode::kInvalidArgument);
  patient.patient = "p-1";
  patient.organization = "org-1";  // a patient belongs to no organization
  EXPECT_EQ(accounts_.Add(patient, kPassword, kTestNow).code(), StatusCode::kInvalidArgument);
  patient.organization.clear();
  EXPECT_TRUE(accounts_.Add(patient, kPassword, kTestNow).ok());
  Account doctor = Doctor("dr.nobody");
  doctor.organization.clear();
  EXPECT_EQ(accounts_.Add(doctor, kPassword, kTestNow).code(), StatusCode::kInvalidArgument);
}

TEST_F(AccountsTest, ShortPasswordsAreRefused) {
  EXPECT_EQ(accounts_.Add(Doctor("dr.wilson"), "1234567", kTestNow).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AccountsTest, ListReturnsEveryAccountInUsernameOrder) {
  ASSERT_TRUE(accounts_.Add(Doctor("dr.cuddy"), kPassword, kTestNow).ok());
  auto list = accounts_.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].username, "dr.cuddy");
  EXPECT_EQ((*list)[1].username, "dr.house");
}

TEST_F(AccountsTest, TheRightPasswordAuthenticates) {
  auto a = accounts_.Authenticate("dr.house", kPassword, kTestNow);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->username, "dr.house");
}

TEST_F(AccountsTest, UnknownUsersAndWrongPasswordsGetTheSameAnswer) {
  const Status wrong = Login("wrong-password", kTestNow);
  const Status unknown = Login(kPassword, kTestNow, "dr.nobody");
  const Status malformed = Login(kPassword, kTestNow, "NOT A USER");
  for (const Status& s : {wrong, unknown, malformed}) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(s.message(), kInvalidCredentials);
  }
}

TEST_F(AccountsTest, EveryLoginAttemptRunsExactlyOnePasswordVerificationKnownUserOrNot) {
  // Equal work for every answer is what keeps timing from telling users apart.
  for (const char* user : {"dr.house", "dr.nobody", "NOT A USER"}) {
    const uint64_t before = accounts_.password_verifications();
    EXPECT_FALSE(Login("wrong-password", kTestNow, user).ok()) << user;
    EXPECT_EQ(accounts_.password_verifications(), before + 1) << user;
  }
  const uint64_t before = accounts_.password_verifications();
  EXPECT_TRUE(Login(kPassword, kTestNow).ok());
  EXPECT_EQ(accounts_.password_verifications(), before + 1);
}

TEST_F(AccountsTest, FiveFailuresLockTheAccountForThirtySecondsEvenForTheRightPassword) {
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Login("wrong", kTestNow + i * kSecond).ok());
  EXPECT_EQ(accounts_.Get("dr.house")->locked_until, 0);
  EXPECT_FALSE(Login("wrong", kTestNow + 4 * kSecond).ok());  // the fifth
  EXPECT_EQ(accounts_.Get("dr.house")->locked_until, kTestNow + 34 * kSecond);
  const Status locked = Login(kPassword, kTestNow + 33 * kSecond);
  EXPECT_EQ(locked.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(locked.message(), kInvalidCredentials);  // a lock is not announced
  EXPECT_TRUE(Login(kPassword, kTestNow + 34 * kSecond).ok());
  EXPECT_EQ(accounts_.Get("dr.house")->failed_attempts, 0u);
}

TEST_F(AccountsTest, EachFailureAfterALockDoublesItUpToTheCap) {
  int64_t now = kTestNow;
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login("wrong", now).ok());
  int64_t expected = 30 * kSecond;
  for (int round = 0; round < 8; ++round) {
    const Account a = *accounts_.Get("dr.house");
    EXPECT_EQ(a.locked_until - now, expected) << "round " << round;
    now = a.locked_until;
    ASSERT_FALSE(Login("wrong", now).ok());
    expected = std::min<int64_t>(expected * 2, 900 * kSecond);
  }
}

TEST_F(AccountsTest, AttemptsDuringALockDoNotCount) {
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login("wrong", kTestNow).ok());
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(Login("wrong", kTestNow + kSecond).ok());
  const Account a = *accounts_.Get("dr.house");
  EXPECT_EQ(a.failed_attempts, 5u);
  EXPECT_EQ(a.locked_until, kTestNow + 30 * kSecond);
}

TEST_F(AccountsTest, ASuccessResetsTheFailureCount) {
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login("wrong", kTestNow).ok());
  ASSERT_TRUE(Login(kPassword, kTestNow).ok());
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login("wrong", kTestNow).ok());
  EXPECT_EQ(accounts_.Get("dr.house")->locked_until, 0);
}

TEST_F(AccountsTest, LockDurationsFollowTheBackOffTable) {
  const std::pair<uint32_t, int64_t> table[] = {{0, 0},   {4, 0},   {5, 30},   {6, 60},
                                                {7, 120}, {9, 480}, {10, 900}, {40, 900}};
  for (const auto& [failures, seconds] : table) {
    EXPECT_EQ(accounts_.LockMicros(failures), seconds * kSecond) << failures;
  }
}

TEST_F(AccountsTest, ADisabledAccountCannotLogInEvenWithTheRightPassword) {
  ASSERT_TRUE(accounts_.Disable("dr.house").ok());
  EXPECT_TRUE(accounts_.Get("dr.house")->disabled);
  const Status s = Login(kPassword, kTestNow);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), kInvalidCredentials);
  EXPECT_EQ(accounts_.Disable("dr.nobody").code(), StatusCode::kNotFound);
}

TEST_F(AccountsTest, AHashWithOldParametersIsUpgradedAtTheNextLogin) {
  AccountsOptions stronger = FastOptions();
  stronger.password_params.ops_limit = 2;
  Accounts upgraded(store_.get(), stronger);
  const std::string before = accounts_.Get("dr.house")->password_hash;
  ASSERT_TRUE(upgraded.Authenticate("dr.house", kPassword, kTestNow).ok());
  const std::string after = accounts_.Get("dr.house")->password_hash;
  EXPECT_NE(before, after);
  EXPECT_NE(after.find("t=2"), std::string::npos) << after;
  EXPECT_TRUE(accounts_.Authenticate("dr.house", kPassword, kTestNow).ok());
}

}  // namespace
}  // namespace medhub::security
