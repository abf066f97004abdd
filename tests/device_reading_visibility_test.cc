// What a stored device reading is to the rest of medhub, end to end against the real
// `medhub serve` with real tokens (the access-control fixture: Device/dev-1 bound to
// Patient/pa, dr-a in care of pa, patient-b and dr-c without any relation to pa): every
// acknowledged reading is a FHIR Observation with its LOINC codes and units, read by id,
// found by a search on patient + code + date range, listed in Patient/$everything, hidden
// from whoever the policy keeps away from the patient, and committed to the ledger so that
// $verify proves the very bytes read. This is the contract any storage of readings must
// keep (docs/formats/ingest.md, "Observation of a reading").
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/json.h"
#include "core/time.h"
#include "ingest/readings.h"
#include "support/secure_server.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;

int64_t Total(const std::string& body) {
  auto doc = json::Parse(body);
  if (!doc.ok() || doc->find("total") == nullptr) return -1;
  return doc->find("total")->as_int().value_or(-1);
}

class DeviceReadingVisibilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::SecureServer(MEDHUB_BINARY, MEDHUB_TEST_DATA "/access_fixture.ndjson");
    started_ = server_->Start();
    if (!started_.empty()) return;
    // Two readings an hour ago, one three days ago (outside the searched range).
    const int64_t now = NowMicros();
    recent_ = FormatInstant(now - 3600'000'000LL);
    const std::string old = FormatInstant(now - 3 * 86400'000'000LL);
    const std::string batch =
        R"({"readings":[)"
        R"({"seq":1,"kind":"heart-rate","value":72,"unit":"/min","time":")" +
        recent_ +
        R"("},)"
        R"({"seq":2,"kind":"blood-pressure","values":[128,84],"unit":"mm[Hg]","time":")" +
        recent_ +
        R"("},)"
        R"({"seq":3,"kind":"heart-rate","value":64,"unit":"/min","time":")" +
        old +
        R"("},)"
        R"({"seq":4,"kind":"ecg","values":[0.12,0.3,-0.1],"unit":"mV","period":4,)"
        R"("heart_rate":88,"rhythm":"sinus","time":")" +
        recent_ + R"("}]})";
    auto device = server_->Client("device-1");
    const auto r = device->Send("POST", "/api/devices/dev-1/readings", batch,
                                {{"Content-Type", "application/json"}});
    ack_ = std::to_string(r.status) + " " + r.body;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(started_, "");
    ASSERT_EQ(ack_.substr(0, 4), "200 ") << ack_;
  }
  // The id of reading (dev-1, seq), found as a client would: by its identifier.
  static std::string Id(uint64_t seq) {
    auto patient = server_->Client("patient-a");
    const auto r = patient->Get("/fhir/Observation?identifier=urn:medhub:device-reading|dev-1/" +
                                std::to_string(seq));
    auto bundle = json::Parse(r.body);
    if (r.status != 200 || !bundle.ok()) return "search-failed-" + std::to_string(r.status);
    const json::Value* entries = bundle->find("entry");
    if (!entries || entries->items().size() != 1) return "not-exactly-one-match";
    return std::string(entries->items()[0].find("resource")->get_string("id"));
  }

  static testing::SecureServer* server_;
  static std::string started_, ack_, recent_;
};

testing::SecureServer* DeviceReadingVisibilityTest::server_ = nullptr;
std::string DeviceReadingVisibilityTest::started_;
std::string DeviceReadingVisibilityTest::ack_;
std::string DeviceReadingVisibilityTest::recent_;

TEST_F(DeviceReadingVisibilityTest, TheAckListsEveryStoredSequenceNumber) {
  auto ack = json::Parse(ack_.substr(4));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(json::Serialize(*ack->find("stored")), "[1,2,3,4]");
  EXPECT_EQ(json::Serialize(*ack->find("duplicates")), "[]");
}

TEST_F(DeviceReadingVisibilityTest, AReadingIsReadByIdWithItsLoincCodesUnitsAndDevice) {
  auto patient = server_->Client("patient-a");
  auto hr = patient->Get("/fhir/Observation/" + Id(1));
  ASSERT_EQ(hr.status, 200) << hr.body;
  for (const char* part :
       {R"("system":"http://loinc.org","code":"8867-4")", R"("code":"vital-signs")",
        R"("reference":"Patient/pa")", R"("reference":"Device/dev-1")", R"("value":72)",
        R"("code":"/min")", R"("value":"dev-1/1")"})
    EXPECT_NE(hr.body.find(part), std::string::npos) << part << "\n" << hr.body;
  auto bp = patient->Get("/fhir/Observation/" + Id(2));
  ASSERT_EQ(bp.status, 200) << bp.body;
  for (const char* part : {R"("code":"85354-9")", R"("code":"8480-6")", R"("code":"8462-4")",
                           R"("value":128)", R"("value":84)", R"("code":"mm[Hg]")"})
    EXPECT_NE(bp.body.find(part), std::string::npos) << part << "\n" << bp.body;
  auto ecg = patient->Get("/fhir/Observation/" + Id(4));
  ASSERT_EQ(ecg.status, 200) << ecg.body;
  for (const char* part : {R"("valueSampledData")", R"("data":"0.12 0.3 -0.1")", R"("period":4)",
                           R"("code":"8867-4")", R"("code":"8884-9")", R"("code":"426783006")"})
    EXPECT_NE(ecg.body.find(part), std::string::npos) << part << "\n" << ecg.body;
}

TEST_F(DeviceReadingVisibilityTest, ASearchByPatientCodeAndDateRangeFindsExactlyTheReadings) {
  auto doctor = server_->Client("dr-a");
  const std::string since = FormatInstant(NowMicros() - 2 * 3600'000'000LL);
  const auto in_range = doctor->Get(
      "/fhir/Observation?patient=Patient/pa&code=http://loinc.org|8867-4&date=ge" + since);
  ASSERT_EQ(in_range.status, 200) << in_range.body;
  EXPECT_EQ(Total(in_range.body), 1) << in_range.body;
  EXPECT_NE(in_range.body.find(Id(1)), std::string::npos);
  EXPECT_EQ(in_range.body.find(Id(3)), std::string::npos) << "a reading outside the range";
  const auto all_hr =
      doctor->Get("/fhir/Observation?patient=Patient/pa&code=http://loinc.org|8867-4");
  EXPECT_NE(all_hr.body.find(Id(1)), std::string::npos);
  EXPECT_NE(all_hr.body.find(Id(3)), std::string::npos);
  EXPECT_EQ(all_hr.body.find(Id(2)), std::string::npos) << "a blood pressure is not 8867-4";
  const auto systolic = doctor->Get("/fhir/Observation?patient=pa&component-code=8480-6");
  EXPECT_NE(systolic.body.find(Id(2)), std::string::npos) << systolic.body;
}

TEST_F(DeviceReadingVisibilityTest, ThePatientsEverythingListsTheReadings) {
  for (const char* who : {"patient-a", "dr-a"}) {
    auto client = server_->Client(who);
    const auto r = client->Get("/fhir/Patient/pa/$everything");
    ASSERT_EQ(r.status, 200) << who << ": " << r.body;
    for (uint64_t seq : {1, 2, 3, 4})
      EXPECT_NE(r.body.find(Id(seq)), std::string::npos) << who << " seq " << seq;
  }
}

TEST_F(DeviceReadingVisibilityTest, WhoeverThePolicyKeepsAwayFromThePatientSeesNoReading) {
  for (const char* who : {"patient-b", "dr-c"}) {
    auto client = server_->Client(who);
    const auto read = client->Get("/fhir/Observation/" + Id(1));
    EXPECT_EQ(read.status, 404) << who << ": " << read.body;
    EXPECT_EQ(read.body.find("8867-4"), std::string::npos) << who;
    const auto search = client->Get("/fhir/Observation?code=http://loinc.org|8867-4");
    EXPECT_EQ(search.body.find(Id(1)), std::string::npos) << who << ": " << search.body;
  }
  auto auditor = server_->Client("auditor");
  EXPECT_EQ(auditor->Get("/fhir/Observation/" + Id(1)).status, 403);
}

TEST_F(DeviceReadingVisibilityTest, AReadingIsCommittedToTheLedgerAndItsBytesVerify) {
  auto patient = server_->Client("patient-a");
  const auto read = patient->Get("/fhir/Observation/" + Id(2) + "/_history/1");
  ASSERT_EQ(read.status, 200) << read.body;
  testing::ClientResponse r;
  for (int i = 0; i < 3000; ++i) {  // 503 until the ledger writer has reached the version
    r = patient->Get("/fhir/Observation/" + Id(2) + "/_history/1/$verify");
    if (r.status != 503) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"matches","valueBoolean":true)"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace medhub
