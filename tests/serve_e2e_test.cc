// End-to-end tests of the medhub binary: serve, demo and the command line's error paths.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "core/ids.h"
#include "core/json.h"
#include "support/http_client.h"
#include "support/process.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using namespace std::chrono_literals;

class ServeE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-e2e-" + NewId());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ServeE2ETest, ServeAnswersFhirAndStopsCleanlyOnSigterm) {
  ChildProcess p({MEDHUB_BINARY, "serve", "--data", dir_.string(), "--port", "0", "--max-body",
                  "4096"});
  const std::string line = p.ReadLineContaining("listening on http://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << p.output();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  auto meta = c.Get("/fhir/metadata");
  EXPECT_EQ(meta.status, 200);
  EXPECT_EQ(meta.header("content-type"), "application/fhir+json; charset=utf-8");
  auto created = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":"female"})");
  ASSERT_EQ(created.status, 201);
  EXPECT_NE(created.header("location").find("/fhir/Patient/"), std::string::npos);
  // Over the configured body limit: 413 with an OperationOutcome.
  auto big = c.Send("POST", "/fhir/Patient", std::string(8192, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("OperationOutcome"), std::string::npos);
  HttpClient c2("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  auto text = c2.Send("POST", "/fhir/Patient", "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  auto html = c2.Get("/");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.header("x-content-type-options"), "nosniff");
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(20s), 0);
}

TEST_F(ServeE2ETest, DemoImportsTheSampleAndServesThePatientsRecord) {
  ChildProcess p({MEDHUB_BINARY, "demo", "--data", dir_.string(), "--port", "0", "--sample",
                  std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"});
  const std::string imported = p.ReadLineContaining("imported 39 files", 120s);
  EXPECT_NE(imported.find("11953 ok, 0 failed"), std::string::npos) << p.output();
  const std::string everything = p.ReadLineContaining("$everything", 60s);
  ASSERT_FALSE(everything.empty()) << p.output();
  const std::string line = p.ReadLineContaining("listening on", 10s);
  ASSERT_FALSE(line.empty()) << p.output();
  const std::string url = everything.substr(everything.find("http://"));
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  auto r = c.Get(url.substr(url.find("/fhir/")));
  ASSERT_EQ(r.status, 200);
  auto bundle = json::Parse(r.body);
  ASSERT_TRUE(bundle.ok());
  EXPECT_GT(bundle->find("total")->as_int().value_or(0), 100);
  p.Signal(SIGINT);
  EXPECT_EQ(p.Wait(20s), 0);
}

TEST_F(ServeE2ETest, BadCommandLinesExitNonZeroWithAMessage) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{MEDHUB_BINARY, "serve"},
        {MEDHUB_BINARY, "serve", "--data", dir_.string(), "--port", "http"},
        {MEDHUB_BINARY, "serve", "--data", dir_.string(), "--bogus", "1"},
        {MEDHUB_BINARY, "import", "--data", dir_.string(), "/no/such/file.json"},
        {MEDHUB_BINARY, "frobnicate"}}) {
    ChildProcess p(args);
    const int code = p.Wait(20s);
    EXPECT_NE(code, 0) << args[1];
    EXPECT_GT(code, 0) << args[1];
    EXPECT_LT(code, 128) << args[1] << " crashed";
  }
}

TEST_F(ServeE2ETest, ImportReportsBadFilesAndExitsNonZeroWithoutWritingThem) {
  const auto bad = dir_.parent_path() / ("medhub-bad-" + NewId() + ".ndjson");
  {
    FILE* f = std::fopen(bad.c_str(), "w");
    std::fputs("{\"resourceType\":\"Patient\",\"id\":\"ok1\"}\n{\"resourceType\":\"Patient\",\n"
               "{\"resourceType\":\"Patient\",\"birthDate\":\"1990-99-01\"}\n", f);
    std::fclose(f);
  }
  ChildProcess p({MEDHUB_BINARY, "import", "--data", dir_.string(), bad.string()});
  const std::string summary = p.ReadLineContaining("imported", 30s);
  EXPECT_NE(summary.find("1 ok, 2 failed"), std::string::npos) << summary;
  EXPECT_EQ(p.Wait(30s), 1);
  std::filesystem::remove(bad);
}

TEST_F(ServeE2ETest, ASecondServerOnTheSameDataDirectoryIsRefused) {
  ChildProcess first({MEDHUB_BINARY, "serve", "--data", dir_.string(), "--port", "0"});
  ASSERT_FALSE(first.ReadLineContaining("listening on", 20s).empty());
  ChildProcess second({MEDHUB_BINARY, "serve", "--data", dir_.string(), "--port", "0"});
  EXPECT_EQ(second.Wait(20s), 1);
}

}  // namespace
}  // namespace medhub
