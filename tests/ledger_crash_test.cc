// A crash between the store and the ledger is repaired on restart: writers stream updates
// at `medhub serve`, the server is killed with SIGKILL mid-stream (possibly mid-append),
// restarted, and once it has caught up every acknowledged version has a $verify proof and
// `medhub ledger verify` finds ledger and store intact. Repeated.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

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

uint16_t StartServer(ChildProcess* p) {
  const std::string line = p->ReadLineContaining("listening on", 30s);
  return static_cast<uint16_t>(testing::PortFromListeningLine(line));
}

// Streams PUTs from 3 threads until `stop`; records acknowledged "id/version"s.
void StreamWrites(uint16_t port, int round, const std::string& token, std::atomic<bool>* stop,
                  std::vector<std::string>* acked, std::mutex* mu) {
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([=] {
      HttpClient c("127.0.0.1", port);
      c.SetBearer(token);
      for (int i = 0; !*stop; ++i) {
        const std::string id =
            "r" + std::to_string(round) + "w" + std::to_string(w) + "n" + std::to_string(i % 20);
        const auto r =
            c.Send("PUT", "/fhir/Observation/" + id,
                   R"({"resourceType":"Observation","id":")" + id +
                       R"(","status":"final","code":{"text":"step )" + std::to_string(i) + R"("}})",
                   {{"Content-Type", "application/fhir+json"}});
        if (r.status == 0) return;
        if (r.status != 200 && r.status != 201) continue;
        const auto doc = json::Parse(r.body);
        if (!doc.ok()) continue;
        std::lock_guard lock(*mu);
        acked->push_back(id + "/_history/" +
                         std::string(doc->find("meta")->get_string("versionId")));
      }
    });
  }
  for (auto& t : writers) t.join();
}

TEST(LedgerCrashTest, AfterSigkillMidStreamTheLedgerCatchesUpAndVerifies) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-ledger-crash-" + NewId());
  const std::string data = (dir / "data").string();
  std::vector<std::string> acked;
  std::mutex mu;
  std::filesystem::create_directories(dir);
  const std::string secret = testing::AddServiceClient(MEDHUB_BINARY, data);
  ASSERT_FALSE(secret.empty());
  std::string token;
  for (int round = 0; round < 3; ++round) {
    ChildProcess server({MEDHUB_BINARY, "serve", "--data", data, "--port", "0"});
    const uint16_t port = StartServer(&server);
    ASSERT_NE(port, 0) << server.output();
    if (token.empty()) {
      HttpClient t("127.0.0.1", port);
      token = testing::ClientToken(t, "e2e-service", secret);
      ASSERT_FALSE(token.empty());
    }
    std::atomic<bool> stop{false};
    std::thread stream([&] { StreamWrites(port, round, token, &stop, &acked, &mu); });
    std::this_thread::sleep_for(400ms + 150ms * round);
    server.Signal(SIGKILL);
    EXPECT_EQ(server.Wait(10s), 128 + SIGKILL);
    stop = true;
    stream.join();
  }
  ASSERT_GT(acked.size(), 100u);
  ChildProcess server({MEDHUB_BINARY, "serve", "--data", data, "--port", "0"});
  const uint16_t port = StartServer(&server);
  ASSERT_NE(port, 0) << server.output();
  HttpClient c("127.0.0.1", port);
  c.SetBearer(token);
  for (const std::string& version : acked) {
    testing::ClientResponse r;
    for (int i = 0; i < 500; ++i) {  // 503 until the writer has caught up
      r = c.Get("/fhir/Observation/" + version + "/$verify");
      if (r.status != 503) break;
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(r.status, 200) << version << ": " << r.body;
    ASSERT_NE(r.body.find(R"("name":"matches","valueBoolean":true)"), std::string::npos) << version;
  }
  server.Signal(SIGTERM);
  ASSERT_EQ(server.Wait(30s), 0);

  ChildProcess verify({MEDHUB_BINARY, "ledger", "verify", "--data", data});
  const std::string line = verify.ReadLineContaining("ledger ", 120s);
  EXPECT_EQ(verify.Wait(60s), 0) << verify.output();
  EXPECT_NE(line.find("ledger intact"), std::string::npos) << verify.output();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medhub
