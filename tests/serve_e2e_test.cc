// End-to-end tests of the medhub binary: serve, demo and the command line's error paths.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/ids.h"
#include "core/json.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/tokens.h"

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
  const std::string secret = testing::AddServiceClient(MEDHUB_BINARY, dir_.string());
  ASSERT_FALSE(secret.empty());
  ChildProcess p(
      {MEDHUB_BINARY, "serve", "--data", dir_.string(), "--port", "0", "--max-body", "4096"});
  const std::string line = p.ReadLineContaining("listening on http://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << p.output();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  auto meta = c.Get("/fhir/metadata");
  EXPECT_EQ(meta.status, 200);
  EXPECT_EQ(meta.header("content-type"), "application/fhir+json; charset=utf-8");
  // Everything but the CapabilityStatement needs a token.
  auto anonymous = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate").rfind("Bearer", 0), 0u);
  c.SetBearer(testing::ClientToken(c, "e2e-service", secret));
  auto created = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":"female"})");
  ASSERT_EQ(created.status, 201);
  EXPECT_NE(created.header("location").find("/fhir/Patient/"), std::string::npos);
  // Over the configured body limit: 413 with an OperationOutcome.
  auto big = c.Send("POST", "/fhir/Patient", std::string(8192, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("OperationOutcome"), std::string::npos);
  HttpClient c2("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  c2.SetBearer(c.bearer());
  auto text = c2.Send("POST", "/fhir/Patient", "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  auto html = c2.Get("/");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.header("x-content-type-options"), "nosniff");
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(20s), 0);
}

TEST_F(ServeE2ETest, DemoImportsTheSampleAndServesThePatientsRecord) {
  ChildProcess p({MEDHUB_BINARY, "demo", "--data", dir_.string(), "--port", "0", "--no-tls",
                  "--sample", std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"});
  const std::string imported = p.ReadLineContaining("imported 39 files", 120s);
  EXPECT_NE(imported.find("11953 ok, 0 failed"), std::string::npos) << p.output();
  // "  patient account patient / PASSWORD  (...)": the demo's accounts can log in.
  const std::string account = p.ReadLineContaining("patient account patient / ", 60s);
  ASSERT_FALSE(account.empty()) << p.output();
  const std::string everything = p.ReadLineContaining("$everything", 10s);
  ASSERT_FALSE(everything.empty()) << p.output();
  const size_t pw_at = account.find(" / ") + 3;
  const std::string password = account.substr(pw_at, account.find(' ', pw_at) - pw_at);
  const std::string line = p.ReadLineContaining("listening on", 10s);
  ASSERT_FALSE(line.empty()) << p.output();
  // The hint is a shell command: the URL is quoted so that the shell keeps "$everything".
  std::string url = everything.substr(everything.find("http://"));
  ASSERT_EQ(url.back(), '\'') << everything;
  url.pop_back();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  EXPECT_EQ(c.Get(url.substr(url.find("/fhir/"))).status, 401);  // no token
  auto token =
      c.Send("POST", "/auth/token", "grant_type=password&username=patient&password=" + password,
             {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(token.status, 200) << token.body;
  auto token_json = json::Parse(token.body);
  ASSERT_TRUE(token_json.ok());
  c.SetBearer(std::string(token_json->get_string("access_token")));
  // The patient reads their own record.
  auto r = c.Get(url.substr(url.find("/fhir/")));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  auto bundle = json::Parse(r.body);
  ASSERT_TRUE(bundle.ok());
  EXPECT_GT(bundle->find("total")->as_int().value_or(0), 100);
  auto wrong =
      c.Send("POST", "/auth/token", "grant_type=password&username=patient&password=wrong-password",
             {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong.status, 400);
  p.Signal(SIGINT);
  EXPECT_EQ(p.Wait(20s), 0);
}

bool HaveCurl() { return std::system("command -v curl >/dev/null 2>&1") == 0; }

// Runs `curl -sS -i --cacert CA URL` and returns the status line, headers and body ("" on
// failure).
std::string CurlWithCa(const std::string& ca, const std::string& url) {
  const std::string cmd = "curl -sS -i --max-time 20 --cacert '" + ca + "' '" + url + "' 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  pclose(f);
  return out;
}

TEST_F(ServeE2ETest, DemoServesHttpsWithItsSelfSignedCertificateAndServeUsesThePair) {
  if (!HaveCurl()) GTEST_SKIP() << "curl is not installed";
  const auto sample = dir_ / "sample";
  std::filesystem::create_directories(sample);
  std::ofstream(sample / "p.ndjson")
      << R"({"resourceType":"Patient","id":"tls1","gender":"female"})"
      << "\n";
  const auto data = dir_ / "data";
  const std::string cert = (data / "tls" / "cert.pem").string();
  const std::string key = (data / "tls" / "key.pem").string();
  {
    ChildProcess demo({MEDHUB_BINARY, "demo", "--data", data.string(), "--port", "0", "--sample",
                       sample.string()});
    const std::string hint = demo.ReadLineContaining("/fhir/metadata", 60s);
    EXPECT_NE(hint.find("curl --cacert " + cert + " https://127.0.0.1:"), std::string::npos)
        << demo.output();
    const std::string line = demo.ReadLineContaining("listening on https://127.0.0.1:", 20s);
    ASSERT_FALSE(line.empty()) << demo.output();
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string base =
        "https://127.0.0.1:" + std::to_string(testing::PortFromListeningLine(line));
    const std::string meta = CurlWithCa(cert, base + "/fhir/metadata");
    EXPECT_EQ(meta.rfind("HTTP/1.1 200", 0), 0u) << meta.substr(0, 500);
    EXPECT_NE(meta.find("Strict-Transport-Security: max-age=31536000"), std::string::npos);
    EXPECT_NE(meta.find("\"url\":\"" + base + "/fhir\""), std::string::npos);  // https links
    const std::string landing = CurlWithCa(
        cert, "https://localhost:" + std::to_string(testing::PortFromListeningLine(line)) + "/");
    EXPECT_EQ(landing.rfind("HTTP/1.1 200", 0), 0u) << landing.substr(0, 500);
    EXPECT_NE(landing.find("X-Content-Type-Options: nosniff"), std::string::npos);
    EXPECT_NE(landing.find("Content-Security-Policy:"), std::string::npos);
    // A plain HTTP request to the TLS port gets no HTTP response.
    HttpClient plain("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
    EXPECT_NE(plain.Get("/fhir/metadata").status, 200);
    demo.Signal(SIGINT);
    EXPECT_EQ(demo.Wait(20s), 0);
  }
  ChildProcess serve({MEDHUB_BINARY, "serve", "--data", data.string(), "--port", "0", "--tls-cert",
                      cert, "--tls-key", key});
  const std::string line = serve.ReadLineContaining("listening on https://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << serve.output();
  const std::string meta =
      CurlWithCa(cert, "https://127.0.0.1:" + std::to_string(testing::PortFromListeningLine(line)) +
                           "/fhir/metadata");
  EXPECT_EQ(meta.rfind("HTTP/1.1 200", 0), 0u) << meta.substr(0, 500);
  EXPECT_NE(meta.find("CapabilityStatement"), std::string::npos);
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(20s), 0);
}

TEST_F(ServeE2ETest, ServeRefusesIncompleteOrBrokenTlsSettings) {
  std::filesystem::create_directories(dir_);
  const std::string junk = (dir_ / "junk.pem").string();
  std::ofstream(junk) << "junk\n";
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--tls-cert", junk},
        {"--tls-key", junk},
        {"--tls-cert", (dir_ / "missing.pem").string(), "--tls-key", junk},
        {"--tls-cert", junk, "--tls-key", junk}}) {
    std::vector<std::string> args = {MEDHUB_BINARY,         "serve",  "--data",
                                     (dir_ / "d").string(), "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    ChildProcess p(args);
    EXPECT_EQ(p.Wait(20s), 2) << extra[0];  // InvalidArgument, not a crash
  }
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
    std::fputs(
        "{\"resourceType\":\"Patient\",\"id\":\"ok1\"}\n{\"resourceType\":\"Patient\",\n"
        "{\"resourceType\":\"Patient\",\"birthDate\":\"1990-99-01\"}\n",
        f);
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
