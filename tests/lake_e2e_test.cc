// End-to-end: `medhub import` and `medhub serve` keep the lake current, `medhub lake sync`
// and `lake status` report it, and FHIR Bulk Data $export works over HTTP (kick-off, status
// polling, manifest, download, cancel), with a system client's bearer token as it will be
// required once /fhir is protected.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "support/http_client.h"
#include "support/process.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using namespace std::chrono_literals;

std::string RunCommand(const std::string& command, int* code) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class LakeE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-lake-e2e-" + NewId());
    data_ = dir_.string() + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Medhub(const std::string& args, int* code) {
    return RunCommand(std::string(MEDHUB_BINARY) + " " + args + " 2>&1", code);
  }
  std::filesystem::path dir_;
  std::string data_;
};

TEST_F(LakeE2ETest, ImportWritesTheLakeAndLakeSyncToASecondLakeWritesEveryChangeOnce) {
  int code = -1;
  const std::string sample = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  const std::string out =
      Medhub("import --data " + data_ + " --lake " + data_ + "/lake " + sample, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("lake file://"), std::string::npos) << out;
  const std::string status = Medhub("lake status --data " + data_, &code);
  ASSERT_EQ(code, 0) << status;
  EXPECT_NE(status.find("11911 lines"), std::string::npos) << status;
  // 12 patients: one bucket folder per type (docs/formats/lake.md, "bucket=").
  EXPECT_NE(status.find("bucket count 1\n"), std::string::npos) << status;
  const std::string second = dir_.string() + "/second";
  const std::string sync = Medhub("lake sync --data " + data_ + " --to " + second, &code);
  ASSERT_EQ(code, 0) << sync;
  EXPECT_NE(sync.find("change 11911 (11911 changes written"), std::string::npos) << sync;
  // Nothing new: a second sync writes nothing.
  const std::string again = Medhub("lake sync --data " + data_ + " --to " + second, &code);
  EXPECT_NE(again.find("(0 changes written"), std::string::npos) << again;
  // A bad location is a clear error with a non-zero exit.
  const std::string bad = Medhub("lake sync --data " + data_ + " --to s3://x/y", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(bad.find("only a directory, file:// or webhdfs://"), std::string::npos) << bad;
  // An unreachable HDFS: clear error, exit 1.
  const std::string down =
      Medhub("lake sync --data " + data_ + " --to webhdfs://127.0.0.1:1/lake", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(down.find("webhdfs"), std::string::npos) << down;
  EXPECT_NE(down.find("127.0.0.1:1"), std::string::npos) << down;
}

TEST_F(LakeE2ETest, BulkExportRunsAsynchronouslyWithATokenAndServesNdjsonFiles) {
  int code = -1;
  const std::string client =
      Medhub("client add --data " + data_ +
                 " --client-id exporter --role service --scope 'system/*.*' --org org1",
             &code);
  ASSERT_EQ(code, 0) << client;
  const size_t at = client.find("client_secret: ");
  ASSERT_NE(at, std::string::npos) << client;
  const std::string secret = client.substr(at + 15, client.find('\n', at) - at - 15);

  ChildProcess p(
      {MEDHUB_BINARY, "serve", "--data", data_, "--port", "0", "--lake", data_ + "/lake"});
  const std::string line = p.ReadLineContaining("listening on http://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << p.output();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  auto token = c.Send("POST", "/auth/token",
                      "grant_type=client_credentials&client_id=exporter&client_secret=" + secret,
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string bearer =
      "Bearer " + std::string(json::Parse(token.body)->get_string("access_token"));
  auto send = [&](const std::string& method, const std::string& target,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", bearer);
    return c.Send(method, target, "", headers);
  };
  for (int i = 0; i < 3; ++i) {
    auto made = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":"female"})",
                       {{"Authorization", bearer}, {"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(made.status, 201);
  }
  auto made = c.Send("POST", "/fhir/Observation",
                     R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})",
                     {{"Authorization", bearer}, {"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(made.status, 201);

  // Without Prefer: respond-async, and with a bad _type: 400 OperationOutcomes.
  EXPECT_EQ(send("GET", "/fhir/$export").status, 400);
  auto bad_type = send("GET", "/fhir/$export?_type=Nope", {{"Prefer", "respond-async"}});
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_NE(bad_type.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(send("GET", "/fhir/Group/none/$export", {{"Prefer", "respond-async"}}).status, 404);

  auto kick = send("GET", "/fhir/$export?_type=Patient,Observation", {{"Prefer", "respond-async"}});
  ASSERT_EQ(kick.status, 202) << kick.body;
  const std::string location = kick.header("content-location");
  const std::string status_path = location.substr(location.find("/fhir/"));
  testing::ClientResponse st;
  for (int i = 0; i < 600; ++i) {
    st = send("GET", status_path);
    if (st.status != 202) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(st.status, 200) << st.body;
  auto manifest = json::Parse(st.body);
  ASSERT_TRUE(manifest.ok());
  EXPECT_TRUE(manifest->find("requiresAccessToken")->as_bool());
  const auto& output = manifest->find("output")->items();
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0].get_string("type"), "Observation");
  EXPECT_EQ(output[1].get_string("type"), "Patient");
  EXPECT_EQ(output[1].find("count")->as_int(), 3);
  const std::string url(output[1].get_string("url"));
  auto file = send("GET", url.substr(url.find("/fhir/")));
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "application/fhir+ndjson");
  size_t lines = 0;
  for (size_t pos = 0; (pos = file.body.find('\n', pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(file.body.find("{\"resourceType\":\"Patient\""), 0u);

  // Patient-level export, then DELETE cancels it and its URLs are gone.
  auto kick2 = send("GET", "/fhir/Patient/$export", {{"Prefer", "respond-async"}});
  ASSERT_EQ(kick2.status, 202);
  const std::string loc2 = kick2.header("content-location");
  const std::string path2 = loc2.substr(loc2.find("/fhir/"));
  EXPECT_EQ(send("DELETE", path2).status, 202);
  EXPECT_EQ(send("GET", path2).status, 404);

  // Without a token an export is refused; every export request left an AuditEvent
  // whose query entity names it: exactly two were GET /fhir/$export itself (the one
  // without Prefer, answered 400, and the one without a token, 401).
  EXPECT_EQ(c.Send("GET", "/fhir/$export", "", {{"Prefer", "respond-async"}}).status, 401);
  auto trail = send("GET", "/fhir/AuditEvent?_count=200");
  ASSERT_EQ(trail.status, 200) << trail.body;
  size_t exports = 0;
  for (size_t pos = 0; (pos = trail.body.find("\"description\":\"/fhir/$export\"", pos)) !=
                       std::string::npos;
       ++pos)
    ++exports;
  EXPECT_EQ(exports, 2u);
  EXPECT_NE(trail.body.find("\"outcomeDesc\":\"401"), std::string::npos);

  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(30s), 0);
  // serve kept the lake current: 4 resources, 4 lines (the requests' AuditEvents stay out).
  const std::string status = Medhub("lake status --data " + data_, &code);
  EXPECT_NE(status.find(" 4 lines, "), std::string::npos) << status << p.output();
}

}  // namespace
}  // namespace medhub
