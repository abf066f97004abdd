// End-to-end: device readings, stored in the store's device time-series key space, reach
// the lake (one NDJSON line per reading, written by `serve --lake` from the change feed) and
// FHIR Bulk Data $export (one line per reading), like any other Observation.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "core/temp_dir.h"
#include "support/http_client.h"
#include "support/process.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using namespace std::chrono_literals;

std::string Medhub(const std::string& args, int* code) {
  std::string out;
  FILE* p = popen((std::string(MEDHUB_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Adds an OAuth client and returns its secret ("" on failure).
std::string AddClient(const std::string& data, const std::string& args) {
  int code = -1;
  const std::string out = Medhub("client add --data " + data + " " + args, &code);
  const size_t at = out.find("client_secret: ");
  if (code != 0 || at == std::string::npos) return "";
  return out.substr(at + 15, out.find('\n', at) - at - 15);
}

std::string Token(HttpClient* c, const std::string& id, const std::string& secret) {
  auto r = c->Send("POST", "/auth/token",
                   "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret,
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  auto doc = json::Parse(r.body);
  return r.status == 200 && doc.ok() ? std::string(doc->get_string("access_token")) : "";
}

// Lines of the lake's published Observation files that are device readings.
size_t ReadingLinesInLake(const std::filesystem::path& lake) {
  size_t lines = 0;
  if (!std::filesystem::exists(lake / "Observation")) return 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(lake / "Observation")) {
    if (!e.is_regular_file() || e.path().extension() != ".ndjson") continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);)
      if (line.find("urn:medhub:device-reading") != std::string::npos) ++lines;
  }
  return lines;
}

TEST(DeviceReadingLake, ReadingsAreLinesOfTheLakeAndOfABulkExport) {
  testing::TempDir dir;
  const std::string data = dir / "data";
  const std::string exporter =
      AddClient(data, "--client-id exporter --role service --scope 'system/*.*' --org org1");
  const std::string device =
      AddClient(data, "--client-id dev-1 --role device --device dev-1 --patient pa");
  ASSERT_FALSE(exporter.empty());
  ASSERT_FALSE(device.empty());
  ChildProcess p({MEDHUB_BINARY, "serve", "--data", data, "--port", "0", "--lake", data + "/lake"});
  const std::string line = p.ReadLineContaining("listening on http://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << p.output();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  const std::string bearer = "Bearer " + Token(&c, "exporter", exporter);
  const std::vector<std::pair<std::string, std::string>> fhir_json = {
      {"Authorization", bearer}, {"Content-Type", "application/fhir+json"}};
  ASSERT_EQ(c.Send("PUT", "/fhir/Patient/pa", R"({"resourceType":"Patient","id":"pa"})", fhir_json)
                .status,
            201);
  ASSERT_EQ(c.Send("PUT", "/fhir/Device/dev-1",
                   R"({"resourceType":"Device","id":"dev-1","patient":{"reference":"Patient/pa"}})",
                   fhir_json)
                .status,
            201);
  const std::string batch =
      R"({"readings":[{"seq":1,"kind":"heart-rate","value":72,"unit":"/min","time":"2026-11-29T10:00:00Z"},)"
      R"({"seq":2,"kind":"blood-pressure","values":[128,84],"unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"},)"
      R"({"seq":3,"kind":"spo2","value":97,"unit":"%","time":"2026-11-29T10:01:00Z"}]})";
  auto ack = c.Send("POST", "/api/devices/dev-1/readings", batch,
                    {{"Authorization", "Bearer " + Token(&c, "dev-1", device)},
                     {"Content-Type", "application/json"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_NE(ack.body.find(R"("stored":[1,2,3])"), std::string::npos) << ack.body;

  auto kick = c.Send("GET", "/fhir/$export?_type=Observation",
                     "", {{"Authorization", bearer}, {"Prefer", "respond-async"}});
  ASSERT_EQ(kick.status, 202) << kick.body;
  const std::string location = kick.header("content-location");
  const std::string status_path = location.substr(location.find("/fhir/"));
  testing::ClientResponse st;
  for (int i = 0; i < 600; ++i) {
    st = c.Send("GET", status_path, "", {{"Authorization", bearer}});
    if (st.status != 202) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(st.status, 200) << st.body;
  auto manifest = json::Parse(st.body);
  ASSERT_TRUE(manifest.ok());
  const auto& output = manifest->find("output")->items();
  ASSERT_EQ(output.size(), 1u) << st.body;
  EXPECT_EQ(output[0].find("count")->as_int(), 3);
  const std::string url(output[0].get_string("url"));
  auto file = c.Send("GET", url.substr(url.find("/fhir/")), "", {{"Authorization", bearer}});
  ASSERT_EQ(file.status, 200);
  for (const char* part : {R"("value":"dev-1/1")", R"("value":"dev-1/2")", R"("value":"dev-1/3")",
                           R"("code":"85354-9")", R"("code":"59408-5")"})
    EXPECT_NE(file.body.find(part), std::string::npos) << part << "\n" << file.body;

  p.Signal(SIGTERM);  // stopping drains the lake writer
  EXPECT_EQ(p.Wait(30s), 0) << p.output();
  EXPECT_EQ(ReadingLinesInLake(std::filesystem::path(data) / "lake"), 3u);
}

}  // namespace
}  // namespace medhub
