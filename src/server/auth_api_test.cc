// The /auth endpoints end to end, in process, against a real store in a temporary
// directory, with an injected clock.
#include "server/auth_api.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "security/base64.h"
#include "security/test_util.h"

namespace medhub::server {
namespace {

using security::kSecond;
using security::kTestNow;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kForm[] = "application/x-www-form-urlencoded";
constexpr char kDoctorPassword[] = "tardis-1963";
constexpr char kPatientPassword[] = "jelly-babies";

// Form-urlencodes a parameter value.
std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

HttpRequest Post(std::string path, std::string body, Headers headers = {{"content-type", kForm}}) {
  HttpRequest r;
  r.method = "POST";
  r.target = path;
  r.path = std::move(path);
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1:40000";
  return r;
}

HttpRequest WithBearer(std::string_view token) {
  HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/fhir/Patient";
  r.headers.emplace_back("authorization", "Bearer " + std::string(token));
  return r;
}

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

json::Value Body(const HttpResponse& r) {
  auto v = json::Parse(r.body);
  EXPECT_TRUE(v.ok()) << r.body;
  return v.ok() ? *v : json::Value();
}

class AuthApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuthApiOptions options;
    options.data_dir = store_.dir();
    options.accounts.password_params = security::PasswordParams::Minimum();
    options.clock = [this] { return now_; };
    auto api = AuthApi::Open(store_.get(), std::move(options));
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(api).value();
    security::Account doctor;
    doctor.username = "dr.who";
    doctor.role = security::Role::kPractitioner;
    doctor.organization = "org-1";
    ASSERT_TRUE(api_->accounts().Add(doctor, kDoctorPassword, now_).ok());
    security::Account patient;
    patient.username = "rose";
    patient.role = security::Role::kPatient;
    patient.patient = "p-1";
    ASSERT_TRUE(api_->accounts().Add(patient, kPatientPassword, now_).ok());
    security::Client cuff;
    cuff.client_id = "cuff-1";
    cuff.role = security::Role::kDevice;
    cuff.patient = "p-1";
    cuff.device = "d-1";
    cuff.scopes = *security::ParseScopes("patient/Observation.write");
    auto secret = api_->clients().Add(cuff, now_);
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    cuff_secret_ = *secret;
  }

  HttpResponse Token(std::string body, Headers headers = {{"content-type", kForm}}) {
    return api_->Handle(Post("/auth/token", std::move(body), std::move(headers)));
  }
  HttpResponse Login(std::string_view user, std::string_view password, std::string scope = "") {
    std::string body =
        "grant_type=password&username=" + std::string(user) + "&password=" + FormEncode(password);
    if (!scope.empty()) body += "&scope=" + FormEncode(scope);
    return Token(body);
  }
  // The access and refresh token of a successful response.
  std::pair<std::string, std::string> Tokens(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    const json::Value v = Body(r);
    return {std::string(v.get_string("access_token")), std::string(v.get_string("refresh_token"))};
  }
  Status Check(std::string_view access_token) {
    return api_->Authenticate(WithBearer(access_token)).status();
  }
  static void ExpectError(const HttpResponse& r, int status, std::string_view error) {
    EXPECT_EQ(r.status, status) << r.body;
    const json::Value v = Body(r);
    EXPECT_EQ(v.get_string("error"), error) << r.body;
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  }

  security::TempStore store_;
  int64_t now_ = kTestNow;
  std::unique_ptr<AuthApi> api_;
  std::string cuff_secret_;
};

TEST_F(AuthApiTest, ThePasswordGrantReturnsABearerTokenAndARefreshToken) {
  const HttpResponse r = Login("dr.who", kDoctorPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(r, "Pragma"), "no-cache");
  EXPECT_TRUE(HeaderOf(r, "Content-Type").starts_with("application/json"));
  const json::Value v = Body(r);
  EXPECT_EQ(v.get_string("token_type"), "Bearer");
  EXPECT_EQ(v.find("expires_in")->as_int(), 900);
  EXPECT_EQ(v.get_string("scope"), "user/*.* offline_access");
  EXPECT_EQ(v.get_string("refresh_token").size(), 43u);
  auto p = api_->Authenticate(WithBearer(v.get_string("access_token")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->subject, "dr.who");
  EXPECT_EQ(p->role, security::Role::kPractitioner);
  EXPECT_EQ(p->organization, "org-1");
}

TEST_F(AuthApiTest, APatientTokenNamesThePatient) {
  const json::Value v = Body(Login("rose", kPatientPassword));
  EXPECT_EQ(v.get_string("patient"), "p-1");
  auto p = api_->Authenticate(WithBearer(v.get_string("access_token")));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->patient, "p-1");
}

TEST_F(AuthApiTest, TheSigningKeyIsCreatedInTheDataDirectoryWithMode0600) {
  struct stat st {};
  ASSERT_EQ(stat((std::filesystem::path(store_.dir()) / "security/token.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuthApiTest, AWrongPasswordAndAnUnknownUserGetTheSameInvalidGrant) {
  const HttpResponse wrong = Login("dr.who", "not-the-password");
  const HttpResponse unknown = Login("dr.nobody", kDoctorPassword);
  ExpectError(wrong, 400, "invalid_grant");
  ExpectError(unknown, 400, "invalid_grant");
  EXPECT_EQ(wrong.body, unknown.body);
}

TEST_F(AuthApiTest, RepeatedFailuresLockTheAccountUntilTheBackOffHasPassed) {
  for (int i = 0; i < 5; ++i) ExpectError(Login("dr.who", "guess"), 400, "invalid_grant");
  ExpectError(Login("dr.who", kDoctorPassword), 400, "invalid_grant");
  now_ += 30 * kSecond;
  EXPECT_EQ(Login("dr.who", kDoctorPassword).status, 200);
}

TEST_F(AuthApiTest, ScopesBeyondTheRoleAreNeverGranted) {
  ExpectError(Login("rose", kPatientPassword, "user/*.write"), 400, "invalid_scope");
  ExpectError(Login("rose", kPatientPassword, "system/*.read"), 400, "invalid_scope");
  ExpectError(Login("rose", kPatientPassword, "patient/*.admin"), 400, "invalid_scope");
  const json::Value v = Body(Login("rose", kPatientPassword, "patient/*.read user/*.write"));
  EXPECT_EQ(v.get_string("scope"), "patient/*.read");
  auto p = api_->Authenticate(WithBearer(v.get_string("access_token")));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(security::Allows(p->scopes, "Observation", security::Action::kWrite,
                                security::ScopeContext::kUser));
}

TEST_F(AuthApiTest, ARefreshRotatesTheTokensAndAReplayEndsTheSession) {
  const auto [access1, refresh1] = Tokens(Login("dr.who", kDoctorPassword));
  now_ += 60 * kSecond;
  const auto [access2, refresh2] =
      Tokens(Token("grant_type=refresh_token&refresh_token=" + refresh1));
  EXPECT_NE(refresh2, refresh1);
  EXPECT_TRUE(Check(access2).ok());
  ExpectError(Token("grant_type=refresh_token&refresh_token=" + refresh1), 400, "invalid_grant");
  ExpectError(Token("grant_type=refresh_token&refresh_token=" + refresh2), 400, "invalid_grant");
  EXPECT_EQ(Check(access1).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Check(access2).code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthApiTest, ARefreshMayNarrowButNotWidenTheScope) {
  const auto [access, refresh] =
      Tokens(Login("rose", kPatientPassword, "patient/Observation.read"));
  ExpectError(Token("grant_type=refresh_token&scope=patient/*.read&refresh_token=" + refresh), 400,
              "invalid_scope");
  // The refused attempt did not use the token up.
  const HttpResponse r = Token("grant_type=refresh_token&refresh_token=" + refresh);
  EXPECT_EQ(Body(r).get_string("scope"), "patient/Observation.read");
}

TEST_F(AuthApiTest, ADisabledAccountCanNoLongerRefresh) {
  const auto [access, refresh] = Tokens(Login("dr.who", kDoctorPassword));
  ASSERT_TRUE(api_->accounts().Disable("dr.who").ok());
  ExpectError(Token("grant_type=refresh_token&refresh_token=" + refresh), 400, "invalid_grant");
  EXPECT_EQ(Check(access).code(), StatusCode::kUnauthenticated);  // its session was ended
}

TEST_F(AuthApiTest, RevokingAnAccessTokenRejectsItAtOnce) {
  const auto [access, refresh] = Tokens(Login("dr.who", kDoctorPassword));
  const HttpResponse r = api_->Handle(Post("/auth/revoke", "token=" + access));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  const Status s = Check(access);
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "token revoked");
}

TEST_F(AuthApiTest, RevokingARefreshTokenEndsItsSession) {
  const auto [access, refresh] = Tokens(Login("dr.who", kDoctorPassword));
  EXPECT_EQ(
      api_->Handle(Post("/auth/revoke", "token_type_hint=refresh_token&token=" + refresh)).status,
      200);
  ExpectError(Token("grant_type=refresh_token&refresh_token=" + refresh), 400, "invalid_grant");
  EXPECT_EQ(Check(access).code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthApiTest, RevokingAnInvalidTokenStillAnswers200) {
  EXPECT_EQ(api_->Handle(Post("/auth/revoke", "token=nonsense")).status, 200);
  ExpectError(api_->Handle(Post("/auth/revoke", "")), 400, "invalid_request");
}

TEST_F(AuthApiTest, TheClientCredentialsGrantAcceptsHttpBasic) {
  const std::string basic = "Basic " + security::Base64Encode("cuff-1:" + cuff_secret_);
  const HttpResponse r =
      Token("grant_type=client_credentials", {{"content-type", kForm}, {"authorization", basic}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::Value v = Body(r);
  EXPECT_EQ(v.get_string("scope"), "patient/Observation.write");
  EXPECT_EQ(v.find("refresh_token"), nullptr);  // RFC 6749 §4.4.3
  auto p = api_->Authenticate(WithBearer(v.get_string("access_token")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, security::Role::kDevice);
  EXPECT_EQ(p->client_id, "cuff-1");
  EXPECT_EQ(p->device, "d-1");
  EXPECT_EQ(p->patient, "p-1");
}

TEST_F(AuthApiTest, TheClientCredentialsGrantAcceptsCredentialsInTheBody) {
  const HttpResponse r = Token("grant_type=client_credentials&client_id=cuff-1&client_secret=" +
                               FormEncode(cuff_secret_));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AuthApiTest, BadClientCredentialsAre401InvalidClientWithAChallenge) {
  const HttpResponse wrong =
      Token("grant_type=client_credentials&client_id=cuff-1&client_secret=x");
  ExpectError(wrong, 401, "invalid_client");
  EXPECT_EQ(HeaderOf(wrong, "WWW-Authenticate"), R"(Basic realm="medhub")");
  ExpectError(Token("grant_type=client_credentials"), 401, "invalid_client");
  ExpectError(Token("grant_type=client_credentials",
                    {{"content-type", kForm}, {"authorization", "Basic !!!"}}),
              401, "invalid_client");
}

TEST_F(AuthApiTest, AClientCannotAskForMoreThanItWasRegisteredFor) {
  ExpectError(Token("grant_type=client_credentials&client_id=cuff-1&scope=patient/*.read"
                    "&client_secret=" +
                    FormEncode(cuff_secret_)),
              400, "invalid_scope");
}

TEST_F(AuthApiTest, MalformedTokenRequestsGetTheirOAuthErrors) {
  ExpectError(Token(""), 400, "invalid_request");
  ExpectError(Token("grant_type=authorization_code&code=x"), 400, "unsupported_grant_type");
  ExpectError(Token("grant_type=password&username=dr.who"), 400, "invalid_request");
  ExpectError(Token("grant_type=password&grant_type=password&username=dr.who&password=x"), 400,
              "invalid_request");
  ExpectError(Token("grant_type=refresh_token"), 400, "invalid_request");
  ExpectError(Token("grant_type=refresh_token&refresh_token=abc"), 400, "invalid_grant");
  // Client credentials on a password grant, and two client authentication methods at once.
  ExpectError(Token("grant_type=password&username=dr.who&password=x&client_secret=y"), 400,
              "invalid_request");
  ExpectError(Token("grant_type=client_credentials&client_id=cuff-1&client_secret=y",
                    {{"content-type", kForm}, {"authorization", "Basic Y3VmZi0xOnk="}}),
              400, "invalid_request");
}

TEST_F(AuthApiTest, CredentialsInTheUrlAreRefused) {
  HttpRequest r = Post("/auth/token", "grant_type=password");
  r.query = {{"username", "dr.who"}, {"password", kDoctorPassword}};
  ExpectError(api_->Handle(r), 400, "invalid_request");
}

TEST_F(AuthApiTest, WrongMethodsMediaTypesSizesAndPathsAre4xx) {
  HttpRequest get = Post("/auth/token", "");
  get.method = "GET";
  const HttpResponse r = api_->Handle(get);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderOf(r, "Allow"), "POST");
  ExpectError(Token("{\"grant_type\":\"password\"}", {{"content-type", "application/json"}}), 415,
              "invalid_request");
  ExpectError(Token("grant_type=password", {}), 415, "invalid_request");
  ExpectError(Token("grant_type=password&pad=" + std::string(16 << 10, 'x')), 413,
              "invalid_request");
  EXPECT_EQ(api_->Handle(Post("/auth/other", "")).status, 404);
  // A charset parameter and upper case are fine.
  EXPECT_EQ(Token("grant_type=password&username=dr.who&password=" + std::string(kDoctorPassword),
                  {{"content-type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}})
                .status,
            200);
}

// The bearer-token check the FHIR API will call on every request.
class BearerTest : public AuthApiTest {
 protected:
  void SetUp() override {
    AuthApiTest::SetUp();
    access_ = Tokens(Login("dr.who", kDoctorPassword)).first;
  }
  Status WithHeaders(Headers headers) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/fhir/Patient";
    r.headers = std::move(headers);
    return api_->Authenticate(r).status();
  }
  static void ExpectReason(const Status& s, std::string_view reason) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
    EXPECT_NE(s.message().find(reason), std::string::npos) << s.message();
  }
  std::string access_;
};

TEST_F(BearerTest, AValidTokenAuthenticates) { EXPECT_TRUE(Check(access_).ok()); }

TEST_F(BearerTest, NoTokenIsUnauthenticated) {
  ExpectReason(WithHeaders({}), "missing Authorization header");
}

TEST_F(BearerTest, HugeAndMalformedAuthorizationHeadersAreUnauthenticated) {
  ExpectReason(WithHeaders({{"authorization", "Bearer " + std::string(1 << 20, 'a')}}),
               "too large");
  ExpectReason(WithHeaders({{"authorization", "Bearer"}}), "not Bearer");
  ExpectReason(WithHeaders({{"authorization", "Bearer "}}), "malformed Bearer token");
  ExpectReason(WithHeaders({{"authorization", "Bearer  " + access_}}), "malformed Bearer token");
  ExpectReason(WithHeaders({{"authorization", "Bearer " + access_ + " x"}}), "malformed");
  ExpectReason(WithHeaders({{"authorization", "Bearer a\"b"}}), "malformed Bearer token");
  ExpectReason(WithHeaders({{"authorization", "Basic " + access_}}), "not Bearer");
  ExpectReason(WithHeaders({{"authorization", "Bearer x=y"}}), "malformed Bearer token");
  ExpectReason(
      WithHeaders({{"authorization", "Bearer " + access_}, {"authorization", "Bearer " + access_}}),
      "more than one");
  ExpectReason(WithHeaders({{"authorization", "Bearer abc.def.ghi"}}), "invalid token");
  // The scheme is case-insensitive (RFC 7235 §2.1).
  EXPECT_TRUE(WithHeaders({{"authorization", "bearer " + access_}}).ok());
}

TEST_F(BearerTest, AnExpiredTokenIsUnauthenticated) {
  now_ += 15 * 60 * kSecond;
  ExpectReason(Check(access_), "token expired");
}

TEST_F(BearerTest, ATamperedPayloadOrForgedSignatureIsUnauthenticated) {
  const size_t a = access_.find('.'), b = access_.rfind('.');
  auto payload = *json::Parse(*security::Base64UrlDecode(access_.substr(a + 1, b - a - 1)));
  payload.set("role", json::Value::String("admin"));
  const std::string tampered = access_.substr(0, a + 1) +
                               security::Base64UrlEncode(json::Serialize(payload)) +
                               access_.substr(b);
  ExpectReason(Check(tampered), "signature does not verify");
  const std::string forged = access_.substr(0, b + 1) + std::string(86, 'A');
  ExpectReason(Check(forged), "signature does not verify");
}

TEST_F(BearerTest, AlgNoneIsUnauthenticated) {
  const size_t a = access_.find('.'), b = access_.rfind('.');
  const std::string header = security::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  ExpectReason(Check(header + access_.substr(a, b - a + 1)), "a part is empty");
  ExpectReason(Check(header + access_.substr(a)), "algorithm 'none'");
}

TEST_F(BearerTest, ATokenForAnotherAudienceIsUnauthenticated) {
  AuthApiOptions options;
  options.data_dir = store_.dir();  // the same signing key
  options.tokens.audience = "https://other.example/fhir";
  options.accounts.password_params = security::PasswordParams::Minimum();
  options.clock = [this] { return now_; };
  auto other = AuthApi::Open(store_.get(), std::move(options));
  ASSERT_TRUE(other.ok());
  const HttpResponse r =
      (*other)->Handle(Post("/auth/token", "grant_type=password&username=dr.who&password=" +
                                               std::string(kDoctorPassword)));
  ExpectReason(Check(Tokens(r).first), "audience");
}

TEST(BearerChallengeTest, NamesTheErrorOnlyWhenATokenWasPresented) {
  EXPECT_EQ(BearerChallenge(Status::Unauthenticated("missing Authorization header")),
            R"(Bearer realm="medhub")");
  EXPECT_EQ(BearerChallenge(Status::Unauthenticated("token expired")),
            R"(Bearer realm="medhub", error="invalid_token", error_description="token expired")");
  EXPECT_EQ(BearerChallenge(Status::Unauthenticated("unknown key id 'a\"b'")).find("a\"b"),
            std::string::npos);
}

}  // namespace
}  // namespace medhub::server
