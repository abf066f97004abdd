// Sync against sources that misbehave: garbage, a malformed resource, a stall — each a
// clear error with the checkpoint unchanged and nothing written; and a `medhub sync run`
// killed with SIGKILL mid-way, then rerun: nothing lost, nothing duplicated.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "sync_test_util.h"

namespace medhub::synctest {
namespace {

// A loopback TCP server that answers every request with `response` (raw HTTP), or, when
// `response` is empty, accepts connections and never answers.
class FakeSource {
 public:
  explicit FakeSource(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSource() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : held_) close(c);
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir"; }

 private:
  void Serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (response_.empty()) {
        held_.push_back(c);  // stall: never answer
        continue;
      }
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      (void)!write(c, response_.data(), response_.size());
      close(c);
    }
  }
  std::string response_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

std::string HttpOk(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string Status(const std::string& center) {
  RunResult r = Medhub({"sync", "status", "--data", center});
  EXPECT_EQ(r.code, 0) << r.output;
  return r.output;
}

TEST(SyncFaultsTest, GarbageMalformedAndStallingSourcesFailClearlyAndLeaveTheCheckpoint) {
  const auto dir = TempDir("sync-faults");
  const std::string center = (dir / "center").string();
  FakeSource garbage(HttpOk("<html>this is not FHIR</html>"));
  FakeSource malformed(HttpOk(
      R"({"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Patient",)"
      R"("id":"ok","meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z"}}},)"
      R"({"resource":{"resourceType":"Patient","id":"bad","birthDate":"yesterday",)"
      R"("meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z"}}}]})"));
  FakeSource unavailable("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  FakeSource stall("");
  for (const auto& [name, src] : {std::pair{"garbage", &garbage},
                                  {"malformed", &malformed},
                                  {"unavailable", &unavailable},
                                  {"stall", &stall}}) {
    RunResult r =
        Medhub({"sync", "add-source", "--data", center, name, "--fhir-base", src->base()});
    ASSERT_EQ(r.code, 0) << r.output;
  }
  RunResult g = Medhub({"sync", "run", "--data", center, "garbage"});
  EXPECT_NE(g.code, 0);
  EXPECT_NE(g.output.find("garbage sent a malformed history page"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find("checkpoint unchanged"), std::string::npos) << g.output;

  RunResult m = Medhub({"sync", "run", "--data", center, "malformed"});
  EXPECT_NE(m.code, 0);
  EXPECT_NE(m.output.find("entry 1"), std::string::npos) << m.output;
  EXPECT_NE(m.output.find("birthDate"), std::string::npos) << m.output;

  RunResult u = Medhub({"sync", "run", "--data", center, "unavailable", "--attempts", "3"});
  EXPECT_NE(u.code, 0);
  EXPECT_NE(u.output.find("failed after 3 attempts: HTTP 503"), std::string::npos) << u.output;

  RunResult s =
      Medhub({"sync", "run", "--data", center, "stall", "--timeout-ms", "300", "--attempts", "2"});
  EXPECT_NE(s.code, 0);
  EXPECT_NE(s.output.find("failed after 2 attempts"), std::string::npos) << s.output;

  const std::string status = Status(center);
  EXPECT_EQ(status.find("runs 1"), std::string::npos) << status;
  size_t never = 0;
  for (size_t pos = status.find("(never pulled)"); pos != std::string::npos;
       pos = status.find("(never pulled)", pos + 1))
    ++never;
  EXPECT_EQ(never, 4u) << status;
  // Nothing of the malformed page was written: its valid first entry is not there.
  AddServiceClient(center, "viewer", (dir / "viewer.secret").string());
  {
    Node node(center);
    AuthedClient c(node.port(), node.Token("viewer", (dir / "viewer.secret").string()));
    EXPECT_EQ(c.Get("/fhir/Patient/malformed-ok").status, 404);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

long Total(AuthedClient* c, const std::string& query) {
  auto doc = json::Parse(c->Get(query).body);
  const json::Value* t = doc.ok() ? doc->find("total") : nullptr;
  return t && t->as_int() ? *t->as_int() : -1;
}

TEST(SyncFaultsTest, ASyncKilledMidwayAndRerunLosesAndDuplicatesNothing) {
  const auto dir = TempDir("sync-kill");
  const std::string source = (dir / "source").string(), center = (dir / "center").string();
  std::vector<std::string> files = SyntheaFiles();
  files.resize(std::min<size_t>(files.size(), 10));
  ASSERT_GT(Import(source, files), 0u);
  const std::string secret = (dir / "source.secret").string();
  AddServiceClient(source, "center", secret);
  AddServiceClient(center, "viewer", (dir / "viewer.secret").string());
  Node node(source);
  ASSERT_EQ(Medhub({"sync", "add-source", "--data", center, "east", "--fhir-base", node.base(),
                    "--client-id", "center", "--client-secret-file", secret})
                .code,
            0);
  {
    testing::ChildProcess run(
        {MEDHUB_BINARY, "sync", "run", "--data", center, "--page-size", "50", "--log-pages"});
    ASSERT_NE(run.ReadLineContaining("page 10 committed", 120s), "") << run.output();
    run.Signal(SIGKILL);
    EXPECT_EQ(run.Wait(30s), 128 + SIGKILL);
  }
  EXPECT_NE(Status(center).find("(never pulled)"), std::string::npos);
  RunResult rerun = Medhub({"sync", "run", "--data", center, "--page-size", "500"});
  ASSERT_EQ(rerun.code, 0) << rerun.output;
  EXPECT_GE(SyncCount(rerun.output, "east", "older"), 500) << rerun.output;
  AuthedClient src(node.port(), node.Token("center", secret));
  // The source's versions but its AuditEvents (which stay there; docs/formats/sync.md).
  const long source_versions = SyncableVersions(&src);
  ASSERT_GT(source_versions, 0);
  Node center_node(center);
  AuthedClient dst(center_node.port(),
                   center_node.Token("viewer", (dir / "viewer.secret").string()));
  // Every source version arrived exactly once: no loss, no duplicate versions (the
  // center's own AuditEvents, of these requests, are not counted).
  EXPECT_EQ(SyncableVersions(&dst), source_versions);
  for (const char* type : {"Patient", "Encounter", "Observation", "Claim", "Condition"})
    EXPECT_EQ(Total(&dst, std::string("/fhir/") + type + "?_summary=count"),
              Total(&src, std::string("/fhir/") + type + "?_summary=count"))
        << type;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace medhub::synctest
