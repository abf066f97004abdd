#include "security/scope.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medhub::security {
namespace {

std::vector<Scope> Scopes(std::string_view text) {
  auto s = ParseScopes(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : std::vector<Scope>{};
}

TEST(ScopeTest, WellFormedScopesParseAndPrintBackUnchanged) {
  for (const char* text :
       {"patient/*.read", "user/Observation.write", "system/*.read", "user/*.write", "user/*.*",
        "patient/Observation.*", "system/Patient.read", "offline_access", "online_access"}) {
    auto s = ParseScope(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status().ToString();
    EXPECT_EQ(s->ToString(), text);
  }
}

TEST(ScopeTest, MalformedScopesAreInvalidArgument) {
  for (const char* text :
       {"", "*.write", "patient", "patient/", "patient/*", "patient/*.", "patient/.read",
        "doctor/*.read", "patient/Observation.delete", "patient/observation.read",
        "patient/NoSuchType.read", "Patient/*.read", "patient/*.read.write", "user/**.read",
        "openid", "patient/*.READ", " patient/*.read"}) {
    auto s = ParseScope(text);
    EXPECT_FALSE(s.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ScopeTest, AScopeStringIsSeparatedBySingleSpaces) {
  auto s = ParseScopes("patient/*.read user/Observation.write offline_access");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 3u);
  EXPECT_EQ(FormatScopes(*s), "patient/*.read user/Observation.write offline_access");
  EXPECT_TRUE(ParseScopes("")->empty());
  for (const char* bad : {" patient/*.read", "patient/*.read ", "patient/*.read  user/*.read",
                          "patient/*.read\tuser/*.read", "patient/*.read x"}) {
    EXPECT_EQ(ParseScopes(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ScopeTest, TooManyOrTooLongScopeStringsAreRefused) {
  std::string many;
  for (size_t i = 0; i <= kMaxScopes; ++i) many += (i ? " " : "") + std::string("user/*.read");
  EXPECT_EQ(ParseScopes(many).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScopes(std::string(kMaxScopeStringBytes + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

// The allow matrix: granted scopes, resource type, action, context -> allowed.
struct AllowCase {
  const char* scopes;
  const char* type;
  Action action;
  ScopeContext context;
  bool allowed;
};

TEST(ScopeTest, AllowsFollowsTheMatrix) {
  using enum ScopeContext;
  constexpr Action R = Action::kRead, W = Action::kWrite;
  const AllowCase cases[] = {
      {"patient/*.read", "Observation", R, kPatient, true},
      {"patient/*.read", "Observation", W, kPatient, false},
      {"patient/*.read", "Observation", R, kUser, false},
      {"patient/*.read", "Observation", R, kSystem, false},
      {"user/Observation.write", "Observation", W, kUser, true},
      {"user/Observation.write", "Observation", R, kUser, false},
      {"user/Observation.write", "Condition", W, kUser, false},
      {"user/Observation.write", "Observation", W, kPatient, false},
      {"system/*.read", "Patient", R, kSystem, true},
      {"system/*.read", "Patient", W, kSystem, false},
      {"system/*.read", "Patient", R, kUser, false},
      {"user/*.write", "Encounter", W, kUser, true},
      {"user/*.write", "Encounter", R, kUser, false},
      {"user/*.*", "Encounter", R, kUser, true},
      {"user/*.*", "Encounter", W, kUser, true},
      {"patient/Observation.*", "Observation", W, kPatient, true},
      {"patient/Observation.*", "Condition", R, kPatient, false},
      {"patient/Observation.read patient/Condition.read", "Condition", R, kPatient, true},
      {"offline_access", "Observation", R, kPatient, false},
      {"", "Observation", R, kPatient, false},
  };
  for (const AllowCase& c : cases) {
    EXPECT_EQ(Allows(Scopes(c.scopes), c.type, c.action, c.context), c.allowed)
        << c.scopes << " / " << c.type << " / " << static_cast<int>(c.action) << " / "
        << static_cast<int>(c.context);
  }
}

TEST(ScopeTest, AllowedContextsNamesEveryGrantingContext) {
  const auto scopes = Scopes("patient/*.read user/Observation.read");
  const ContextSet obs = AllowedContexts(scopes, "Observation", Action::kRead);
  EXPECT_TRUE(obs.patient);
  EXPECT_TRUE(obs.user);
  EXPECT_FALSE(obs.system);
  EXPECT_FALSE(AllowedContexts(scopes, "Observation", Action::kWrite).any());
}

TEST(ScopeTest, IntersectTakesTheMoreSpecificTypeAndTheCommonAccess) {
  auto i = Intersect(*ParseScope("user/*.*"), *ParseScope("user/Observation.read"));
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(i->ToString(), "user/Observation.read");
  EXPECT_FALSE(Intersect(*ParseScope("user/*.read"), *ParseScope("user/*.write")).has_value());
  EXPECT_FALSE(Intersect(*ParseScope("user/*.read"), *ParseScope("patient/*.read")).has_value());
  EXPECT_FALSE(Intersect(*ParseScope("user/Patient.read"), *ParseScope("user/Observation.read"))
                   .has_value());
}

TEST(ScopeTest, NarrowingToARoleDropsEverythingTheRoleMayNotHold) {
  struct Case {
    Role role;
    const char* requested;
    const char* granted;
  };
  const Case cases[] = {
      {Role::kPatient, "patient/*.read", "patient/*.read"},
      {Role::kPatient, "patient/*.*",
       "patient/*.read patient/Consent.write patient/Observation.write"},
      {Role::kPatient, "user/*.read", ""},  // escalation: another context
      {Role::kPatient, "patient/Condition.write", ""},
      {Role::kPatient, "patient/Observation.read patient/*.read", "patient/*.read"},
      {Role::kPractitioner, "user/*.* offline_access", "user/*.* offline_access"},
      {Role::kPractitioner, "system/*.read", ""},
      {Role::kAuditor, "user/*.read", "user/AuditEvent.read"},
      {Role::kAuditor, "user/Observation.read", ""},
      {Role::kAdmin, "user/Patient.read user/Device.*", "user/Device.*"},
      {Role::kDevice, "patient/Observation.write offline_access", "patient/Observation.write"},
      {Role::kService, "system/*.*", "system/*.*"},
      {Role::kService, "system/*.read", "system/*.read"},
      {Role::kService, "user/*.read", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatScopes(NarrowToRole(Scopes(c.requested), c.role)), c.granted)
        << RoleName(c.role) << " asking " << c.requested;
  }
}

TEST(ScopeTest, NarrowKeepsTheRequestOrderWithoutDuplicates) {
  const auto narrowed = Narrow(Scopes("user/Observation.read user/*.read user/Observation.read"),
                               Scopes("user/*.read"));
  EXPECT_EQ(FormatScopes(narrowed), "user/*.read");
  EXPECT_EQ(
      FormatScopes(Narrow(Scopes("user/Patient.read user/Observation.read"), Scopes("user/*.*"))),
      "user/Patient.read user/Observation.read");
}

}  // namespace
}  // namespace medhub::security
