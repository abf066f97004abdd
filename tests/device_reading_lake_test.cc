// End-to-end: device readings, stored in the store's device time-series key space, reach
// the lake (one NDJSON line per reading, written by `serve --lake` from the change feed),
// FHIR Bulk Data $export (one line per reading) and the ledger (`medhub ledger verify`),
// like any other Observation, and are erased with their patient.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "core/temp_dir.h"
#include "support/device_readings.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/tokens.h"

namespace medhub {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using namespace std::chrono_literals;

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

TEST(DeviceReadingLake, ReadingsAreLinesOfTheLakeAndOfABulkExportVerifyInTheLedgerAndAreErased) {
  testing::TempDir dir;
  const std::string data = dir / "data";
  const std::string exporter = testing::AddServiceClient(MEDHUB_BINARY, data);
  const std::string device = testing::AddClient(MEDHUB_BINARY, data, "dev-1", "device",
                                                "patient/Observation.write patient/Device.read",
                                                {"--device", "dev-1", "--patient", "pa"});
  ASSERT_FALSE(exporter.empty());
  ASSERT_FALSE(device.empty());
  ChildProcess p({MEDHUB_BINARY, "serve", "--data", data, "--port", "0", "--lake", data + "/lake"});
  const std::string line = p.ReadLineContaining("listening on http://127.0.0.1:", 20s);
  ASSERT_FALSE(line.empty()) << p.output();
  HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
  const std::string bearer = "Bearer " + testing::ClientToken(c, "e2e-service", exporter);
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
  auto ack = testing::PostReadings(c, "dev-1", device, testing::kThreeReadings);
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_NE(ack.body.find(R"("stored":[1,2,3])"), std::string::npos) << ack.body;

  auto kick = c.Send("GET", "/fhir/$export?_type=Observation", "",
                     {{"Authorization", bearer}, {"Prefer", "respond-async"}});
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
  // serve's ledger writer committed each reading: the offline check finds them all intact.
  ChildProcess verify({MEDHUB_BINARY, "ledger", "verify", "--data", data});
  const std::string verdict = verify.ReadLineContaining("ledger ", 120s);
  EXPECT_EQ(verify.Wait(60s), 0) << verify.output();
  EXPECT_NE(verdict.find("ledger intact"), std::string::npos) << verify.output();

  // Erasing the patient shreds its readings with it: the ledger still verifies and counts
  // them (and the Patient) among the erased versions.
  ChildProcess erase({MEDHUB_BINARY, "patient", "erase", "--data", data, "pa"});
  EXPECT_NE(erase.ReadLineContaining("erased Patient/pa", 60s), "") << erase.output();
  EXPECT_EQ(erase.Wait(60s), 0) << erase.output();
  ChildProcess again({MEDHUB_BINARY, "ledger", "verify", "--data", data});
  const std::string after = again.ReadLineContaining("ledger ", 120s);
  EXPECT_EQ(again.Wait(60s), 0) << again.output();
  const size_t at = after.find(" were erased");
  ASSERT_NE(at, std::string::npos) << after;
  const size_t start = after.rfind(' ', at - 1) + 1;
  EXPECT_GE(std::stoi(after.substr(start, at - start)), 4) << after;
}

}  // namespace
}  // namespace medhub
