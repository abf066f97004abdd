// Nothing acknowledged is lost: writers stream creates and updates at `medhub serve`, the
// server is killed with SIGKILL mid-stream, restarted, and every acknowledged write must be
// there (at its acknowledged version or later) and the store must open cleanly. Repeated.
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

struct Ack {
  std::string id;
  int64_t version;
};

uint16_t StartServer(ChildProcess* p) {
  const std::string line = p->ReadLineContaining("listening on", 30s);
  return static_cast<uint16_t>(testing::PortFromListeningLine(line));
}

TEST(CrashRecoveryTest, EveryAcknowledgedWriteSurvivesSigkillMidStream) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-crash-" + NewId());
  std::vector<Ack> acked;
  std::mutex mu;
  const std::string secret = testing::AddServiceClient(MEDHUB_BINARY, dir.string());
  ASSERT_FALSE(secret.empty());
  std::string token;  // the signing key persists, so one token serves every round
  for (int round = 0; round < 3; ++round) {
    ChildProcess server({MEDHUB_BINARY, "serve", "--data", dir.string(), "--port", "0"});
    const uint16_t port = StartServer(&server);
    ASSERT_NE(port, 0) << "round " << round << ": " << server.output();
    if (token.empty()) {
      HttpClient t("127.0.0.1", port);
      token = testing::ClientToken(t, "e2e-service", secret);
      ASSERT_FALSE(token.empty());
    }
    std::atomic<bool> stop{false};
    std::atomic<int> acks_this_round{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        HttpClient c("127.0.0.1", port);
        c.SetBearer(token);
        for (int i = 0; !stop; ++i) {
          const std::string id =
              "r" + std::to_string(round) + "w" + std::to_string(w) + "n" + std::to_string(i / 2);
          // Every id is created, then updated once: both acknowledgements are checked.
          const std::string body = R"({"resourceType":"Observation","id":")" + id +
                                   R"(","status":"final","code":{"text":"step )" +
                                   std::to_string(i) + R"("},"valueQuantity":{"value":)" +
                                   std::to_string(i) + "}}";
          auto r = c.Send("PUT", "/fhir/Observation/" + id, body);
          if (r.status == 0) return;  // the server died
          if (r.status != 200 && r.status != 201) continue;
          auto doc = json::Parse(r.body);
          if (!doc.ok()) continue;
          const int64_t v = std::stoll(std::string(doc->find("meta")->get_string("versionId")));
          std::lock_guard lock(mu);
          acked.push_back({id, v});
          ++acks_this_round;
        }
      });
    }
    // Kill once a few hundred writes have been acknowledged in this round.
    for (int i = 0; i < 3000 && acks_this_round < 300; ++i) std::this_thread::sleep_for(5ms);
    server.Signal(SIGKILL);
    EXPECT_EQ(server.Wait(10s), 128 + SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
    EXPECT_GE(acks_this_round.load(), 300) << "round " << round;
  }
  // Restart and check every acknowledged write.
  ChildProcess server({MEDHUB_BINARY, "serve", "--data", dir.string(), "--port", "0"});
  const uint16_t port = StartServer(&server);
  ASSERT_NE(port, 0) << server.output();
  HttpClient c("127.0.0.1", port);
  c.SetBearer(token);
  size_t missing = 0;
  for (const Ack& a : acked) {
    auto r = c.Get("/fhir/Observation/" + a.id);
    auto doc = json::Parse(r.body);
    if (r.status != 200 || !doc.ok() ||
        std::stoll(std::string(doc->find("meta")->get_string("versionId"))) < a.version) {
      ++missing;
      ADD_FAILURE() << a.id << " v" << a.version << " lost: " << r.status << " " << r.body;
      if (missing > 10) break;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_GE(acked.size(), 900u);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(20s), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medhub
