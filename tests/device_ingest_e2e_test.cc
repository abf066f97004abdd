// Device readings end to end, nothing acknowledged lost and nothing counted twice: the real
// `medhub serve` (with --mqtt on a real Mosquitto broker), two `medhub devices simulate`
// processes (one over HTTP, one over MQTT) with their spools, medhub killed with SIGKILL
// twice mid-stream and restarted on the same ports. Afterwards every reading a simulator
// made is acknowledged (in_flight=0) and stored exactly once: the number of Observations
// equals the number of readings, and no Observation has a second version.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "support/http_client.h"
#include "support/mosquitto.h"
#include "support/process.h"
#include "support/tokens.h"

namespace medhub {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildProcess;

int RunToEnd(const std::vector<std::string>& argv) {
  ChildProcess p(argv);
  return p.Wait(120s);
}

// The number after "name=" in a counts line, or -1.
int64_t Count(const std::string& line, const std::string& name) {
  const size_t at = line.find(name + "=");
  if (at == std::string::npos) return -1;
  return std::stoll(line.substr(at + name.size() + 1));
}

int64_t Total(testing::HttpClient* c, const std::string& target, const std::string& token) {
  auto r = c->Send("GET", target, "", {{"Authorization", "Bearer " + token}});
  auto doc = json::Parse(r.body);
  if (r.status != 200 || !doc.ok() || !doc->find("total")) return -1;
  return *doc->find("total")->as_int();
}

TEST(DeviceIngestE2e, EveryAcknowledgedReadingIsStoredExactlyOnceAcrossSigkills) {
  testing::MosquittoBroker broker(MEDHUB_MOSQUITTO_SCRIPT);
  ASSERT_TRUE(broker.ok()) << "mosquitto did not start";
  const fs::path dir = fs::temp_directory_path() / ("medhub-devices-" + NewId());
  fs::create_directories(dir);
  const std::string data = (dir / "data").string();
  {
    std::ofstream(dir / "patient.json")
        << R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)"
        << R"({"resourceType":"Patient","id":"pat1","name":[{"family":"Home"}]},)"
        << R"("request":{"method":"PUT","url":"Patient/pat1"}}]})";
  }
  ASSERT_EQ(RunToEnd({MEDHUB_BINARY, "import", "--data", data, (dir / "patient.json").string()}),
            0);
  const std::string creds = (dir / "creds.tsv").string();
  ASSERT_EQ(RunToEnd({MEDHUB_BINARY, "devices", "register", "--data", data, "--patient", "pat1",
                      "--count", "4", "--prefix", "dev", "--out", creds}),
            0);
  const std::string secret = testing::AddClient(MEDHUB_BINARY, data, "e2e-reader", "service",
                                                "system/*.read", {"--org", "e2e"});
  ASSERT_FALSE(secret.empty());
  // Devices 1-2 go over HTTP, 3-4 over MQTT.
  std::vector<std::string> lines;
  for (std::ifstream in(creds); std::getline(in, lines.emplace_back());) {
  }
  std::ofstream(dir / "http.tsv") << lines[0] << "\n" << lines[1] << "\n";
  std::ofstream(dir / "mqtt.tsv") << lines[2] << "\n" << lines[3] << "\n";

  const std::string port = std::to_string(testing::FreeLoopbackPort());
  const std::vector<std::string> serve = {MEDHUB_BINARY, "serve", "--data", data,
                                          "--port",      port,    "--mqtt", broker.address()};
  auto server = std::make_unique<ChildProcess>(serve);
  ASSERT_FALSE(server->ReadLineContaining("listening on", 30s).empty()) << server->output();
  const std::string url = "http://127.0.0.1:" + port;
  ChildProcess http_sim({MEDHUB_BINARY, "devices", "simulate", "--credentials",
                         (dir / "http.tsv").string(), "--devices", "2", "--rate", "300", "--http",
                         url, "--duration", "6", "--spool", (dir / "spool-http").string(),
                         "--batch", "100", "--drain", "90"});
  ChildProcess mqtt_sim({MEDHUB_BINARY,
                         "devices",
                         "simulate",
                         "--credentials",
                         (dir / "mqtt.tsv").string(),
                         "--devices",
                         "2",
                         "--rate",
                         "300",
                         "--mqtt",
                         broker.address(),
                         "--auth",
                         url,
                         "--duration",
                         "6",
                         "--spool",
                         (dir / "spool-mqtt").string(),
                         "--batch",
                         "100",
                         "--drain",
                         "90"});
  for (int kill = 0; kill < 2; ++kill) {
    // Let readings flow and be acknowledged, then kill medhub in the middle of the stream.
    ASSERT_FALSE(http_sim.ReadLineContaining("acknowledged=", 30s).empty()) << http_sim.output();
    ASSERT_FALSE(mqtt_sim.ReadLineContaining("acknowledged=", 30s).empty()) << mqtt_sim.output();
    server->Signal(SIGKILL);
    EXPECT_EQ(server->Wait(10s), 128 + SIGKILL);
    std::this_thread::sleep_for(500ms);  // the devices keep making readings meanwhile
    server = std::make_unique<ChildProcess>(serve);
    ASSERT_FALSE(server->ReadLineContaining("listening on", 30s).empty()) << server->output();
  }
  const std::string http_done = http_sim.ReadLineContaining("done:", 120s);
  const std::string mqtt_done = mqtt_sim.ReadLineContaining("done:", 120s);
  EXPECT_EQ(http_sim.Wait(30s), 0) << http_sim.output();
  EXPECT_EQ(mqtt_sim.Wait(30s), 0) << mqtt_sim.output();
  std::cout << "http simulator: " << http_done << "\nmqtt simulator: " << mqtt_done << "\n";
  ASSERT_FALSE(http_done.empty()) << http_sim.output();
  ASSERT_FALSE(mqtt_done.empty()) << mqtt_sim.output();
  EXPECT_EQ(Count(http_done, "in_flight"), 0) << http_done;
  EXPECT_EQ(Count(mqtt_done, "in_flight"), 0) << mqtt_done;
  EXPECT_EQ(Count(http_done, "rejected"), 0);
  const int64_t readings = Count(http_done, "acknowledged") + Count(mqtt_done, "acknowledged");
  EXPECT_EQ(Count(http_done, "acknowledged"), Count(http_done, "sent")) << http_done;
  EXPECT_EQ(Count(mqtt_done, "acknowledged"), Count(mqtt_done, "sent")) << mqtt_done;
  EXPECT_GT(readings, 2000);
  testing::HttpClient c("127.0.0.1", static_cast<uint16_t>(std::stoi(port)));
  const std::string token = testing::ClientToken(c, "e2e-reader", secret);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Total(&c, "/fhir/Observation?patient=pat1&_summary=count", token), readings);
  EXPECT_EQ(Total(&c, "/fhir/Observation/_history?_count=1", token), readings)
      << "an Observation was written twice";
  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(30s), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medhub
