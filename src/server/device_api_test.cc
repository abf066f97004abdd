// POST /api/devices/{id}/readings in process: a real store in a temporary directory, real
// device clients and tokens from the /auth token endpoint.
#include "server/device_api.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/time.h"
#include "security/test_util.h"
#include "server/auth_api.h"

namespace medhub::server {
namespace {

HttpRequest Post(std::string path, std::string body, std::string token) {
  HttpRequest r;
  r.method = "POST";
  r.path = r.target = std::move(path);
  r.body = std::move(body);
  if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
  r.headers.emplace_back("content-type", "application/json");
  return r;
}

class DeviceApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Put("Patient", R"({"resourceType":"Patient","id":"p1"})");
    Put("Patient", R"({"resourceType":"Patient","id":"p2"})");
    Put("Device", R"({"resourceType":"Device","id":"cuff","patient":{"reference":"Patient/p1"}})");
    Put("Device", R"({"resourceType":"Device","id":"oxi","patient":{"reference":"Patient/p2"}})");
    Put("Device", R"({"resourceType":"Device","id":"loose"})");
    AuthApiOptions options;
    options.data_dir = store_.dir();
    auth_ = AuthApi::Open(store_.get(), options).value();
    api_ = std::make_unique<DeviceApi>(
        &ingestor_, [this](const HttpRequest& r) { return auth_->Authenticate(r); }, NowMicros);
  }
  void Put(const char* type, const char* json) {
    store::WriteOp op;
    op.resource = json::Parse(json).value();
    op.type = type;
    op.id = std::string(op.resource.get_string("id"));
    ASSERT_TRUE(store_.get()->Commit({std::move(op)}).ok());
  }
  std::string TokenFor(std::string device, std::string patient) {
    security::Client c;
    c.client_id = "dev-" + device;
    c.role = security::Role::kDevice;
    c.device = device;
    c.patient = patient;
    c.scopes = security::RoleScopes(security::Role::kDevice);
    auto secret = auth_->clients().Add(c, NowMicros());
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    HttpRequest r;
    r.method = "POST";
    r.path = r.target = "/auth/token";
    r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    r.body = "grant_type=client_credentials&client_id=" + c.client_id + "&client_secret=" + *secret;
    HttpResponse resp = auth_->Handle(r);
    EXPECT_EQ(resp.status, 200) << resp.body;
    return std::string(json::Parse(resp.body)->get_string("access_token"));
  }
  static std::string Batch(int seq, int systolic) {
    return R"({"readings":[{"seq":)" + std::to_string(seq) +
           R"(,"kind":"blood-pressure","values":[)" + std::to_string(systolic) +
           R"(,80],"unit":"mm[Hg]","time":"2026-01-01T10:00:00Z"}]})";
  }

  security::TempStore store_;
  ingest::DeviceIngestor ingestor_{store_.get()};
  std::unique_ptr<AuthApi> auth_;
  std::unique_ptr<DeviceApi> api_;
};

TEST_F(DeviceApiTest, ADeviceStoresItsReadingsAndARetryIsReportedAsADuplicate) {
  const std::string token = TokenFor("cuff", "p1");
  HttpResponse r = api_->Handle(Post("/api/devices/cuff/readings", Batch(5, 130), token));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"device":"cuff","stored":[5],"duplicates":[],"rejected":[]})");
  r = api_->Handle(Post("/api/devices/cuff/readings", Batch(5, 130), token));
  EXPECT_EQ(r.body, R"({"device":"cuff","stored":[],"duplicates":[5],"rejected":[]})");
  EXPECT_TRUE(ingest::FindReadingObservationId(store_.get(), "cuff", 5).ok());
}

TEST_F(DeviceApiTest, AnImpossibleReadingIsRejectedWithItsReasonIn200) {
  HttpResponse r =
      api_->Handle(Post("/api/devices/cuff/readings", Batch(1, 900), TokenFor("cuff", "p1")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("rejected":[{"index":0,"seq":1,"reason":"impossible blood-pressure)"),
            std::string::npos)
      << r.body;
}

TEST_F(DeviceApiTest, ADeviceMayNotPostForAnotherDevice) {
  HttpResponse r =
      api_->Handle(Post("/api/devices/cuff/readings", Batch(1, 120), TokenFor("oxi", "p2")));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(ingest::FindReadingObservationId(store_.get(), "cuff", 1).ok());
}

TEST_F(DeviceApiTest, MissingTokensUnknownAndUnboundDevicesAndBadBodiesGetClearErrors) {
  EXPECT_EQ(api_->Handle(Post("/api/devices/cuff/readings", Batch(1, 120), "")).status, 401);
  EXPECT_EQ(api_->Handle(Post("/api/devices/cuff/readings", Batch(1, 120), "x.y.z")).status, 401);
  const std::string ghost = TokenFor("ghost", "p1");
  EXPECT_EQ(api_->Handle(Post("/api/devices/ghost/readings", Batch(1, 120), ghost)).status, 404);
  const std::string loose = TokenFor("loose", "p1");
  EXPECT_EQ(api_->Handle(Post("/api/devices/loose/readings", Batch(1, 120), loose)).status, 409);
  const std::string cuff = TokenFor("cuff", "p1");
  EXPECT_EQ(api_->Handle(Post("/api/devices/cuff/readings", "{", cuff)).status, 400);
  HttpRequest get = Post("/api/devices/cuff/readings", "", cuff);
  get.method = "GET";
  EXPECT_EQ(api_->Handle(get).status, 405);
}

}  // namespace
}  // namespace medhub::server
