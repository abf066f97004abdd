// Tamper detection with the real binary: after `medhub import` and a `medhub serve` run,
// `medhub ledger verify` passes; then one flipped byte anywhere in blocks.log (many random
// positions, a fresh copy each time) makes it fail naming a block, and a stored record
// version changed directly in RocksDB makes it fail naming that Type/id/_history/version.
// The serve run also checks that a $verify answer verifies with the public key alone.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "ledger/member_files.h"
#include "ledger/test_util.h"
#include "store/keys.h"
#include "store/raw_db_test_util.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/tokens.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;
using ledger::testing::ReadFileBytes;
using ledger::testing::WriteFileBytes;
using testing::ChildProcess;
using testing::HttpClient;

constexpr int kImportFiles = 3;

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunMedhub(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {MEDHUB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  p.ReadLineContaining("\x01 read until the end", 120s);
  RunResult run;
  run.exit_code = p.Wait(60s);
  run.output = p.output();
  return run;
}

std::vector<std::string> SyntheaFiles() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea")) {
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  files.resize(kImportFiles);
  return files;
}

// The id of the Patient in a Synthea bundle.
std::string PatientId(const std::string& bundle_path) {
  const json::Value bundle = json::Parse(ReadFileBytes(bundle_path)).value();
  for (const json::Value& e : bundle.find("entry")->items()) {
    const json::Value* r = e.find("resource");
    if (r->get_string("resourceType") == "Patient") return std::string(r->get_string("id"));
  }
  return "";
}

class LedgerTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("medhub-tamper-" + NewId()));
    std::vector<std::string> args = {"import", "--data", Data()};
    for (const std::string& f : SyntheaFiles()) args.push_back(f);
    const RunResult import = RunMedhub(args);
    ASSERT_EQ(import.exit_code, 0) << import.output;
    ServeRunAddsAVerifiableVersion();
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Data() { return (*dir_ / "data").string(); }
  static std::string BlocksPath() { return (*dir_ / "data/ledger/blocks.log").string(); }
  static RunResult Verify() { return RunMedhub({"ledger", "verify", "--data", Data()}); }

  // Starts `medhub serve`, writes a version, checks its $verify answer, and stops it.
  static void ServeRunAddsAVerifiableVersion() {
    const std::string secret = testing::AddServiceClient(MEDHUB_BINARY, Data());
    ASSERT_FALSE(secret.empty());
    ChildProcess server({MEDHUB_BINARY, "serve", "--data", Data(), "--port", "0"});
    const std::string line = server.ReadLineContaining("listening on", 30s);
    ASSERT_FALSE(line.empty()) << server.output();
    HttpClient c("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
    c.SetBearer(testing::ClientToken(c, "e2e-service", secret));
    const auto put = c.Send("PUT", "/fhir/Observation/tamper-1",
                            R"({"resourceType":"Observation","id":"tamper-1","status":"final",)"
                            R"("code":{"text":"blood pressure"}})",
                            {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(put.status, 201) << put.body;
    testing::ClientResponse verify;
    for (int i = 0; i < 500; ++i) {  // the writer commits within milliseconds
      verify = c.Get("/fhir/Observation/tamper-1/_history/1/$verify");
      if (verify.status != 503) break;
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(verify.status, 200) << verify.body;
    const auto read = c.Get("/fhir/Observation/tamper-1/_history/1");
    const auto members = ledger::ReadMembers((*dir_ / "data/ledger/members.json").string());
    ASSERT_TRUE(members.ok());
    const PublicKey& key = members->at(0).public_key;
    const json::Value head = json::Parse(c.Get("/ledger/head").body).value();
    EXPECT_EQ(head.get_string("public_key"), key.Hex());
    const json::Value params = json::Parse(verify.body).value();
    EXPECT_TRUE(ledger::testing::CheckVerifyParameters(params, read.body, key).ok());
    EXPECT_FALSE(ledger::testing::CheckVerifyParameters(params, read.body + "x", key).ok());
    server.Signal(SIGTERM);
    EXPECT_EQ(server.Wait(30s), 0);
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* LedgerTamperTest::dir_ = nullptr;

TEST_F(LedgerTamperTest, AnUntouchedLedgerAndStoreVerify) {
  const RunResult run = Verify();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("ledger intact"), std::string::npos) << run.output;
}

TEST_F(LedgerTamperTest, OneFlippedByteAnywhereInTheBlocksFileFailsVerifyNamingABlock) {
  const std::string original = ReadFileBytes(BlocksPath());
  ASSERT_GT(original.size(), 1000u);
  std::mt19937_64 rng(20261125);
  std::vector<size_t> positions = {0, 3, 4, 35, 36, original.size() - 1};
  while (positions.size() < 64) positions.push_back(rng() % original.size());
  for (size_t pos : positions) {
    std::string changed = original;
    changed[pos] = static_cast<char>(changed[pos] ^ (1 + rng() % 255));
    WriteFileBytes(BlocksPath(), changed);
    const RunResult run = Verify();
    EXPECT_NE(run.exit_code, 0) << "byte " << pos << ": " << run.output;
    EXPECT_NE(run.output.find("FAILED: block "), std::string::npos)
        << "byte " << pos << ": " << run.output;
  }
  WriteFileBytes(BlocksPath(), original);
  EXPECT_EQ(Verify().exit_code, 0);
}

TEST_F(LedgerTamperTest, AStoredVersionChangedInRocksDbFailsVerifyNamingTheRecord) {
  const std::string id = PatientId(SyntheaFiles()[0]);
  ASSERT_FALSE(id.empty());
  const std::string key = store::keys::ResourceKey("Patient", id, 1);
  // Change one byte of the sealed salt and JSON, then one byte of the nonce (the record is
  // encrypted at rest: either makes the version fail authentication).
  for (const bool salt : {false, true}) {
    auto raw = std::make_unique<testing::RawStoreDb>(Data());  // closed before Verify()
    ASSERT_TRUE(raw->ok());
    rocksdb::DB* db = raw->db();
    rocksdb::ColumnFamilyHandle* resources = raw->cf(store::keys::kResources);
    ASSERT_NE(resources, nullptr);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), resources, key, &value).ok());
    const std::string original = value;
    const auto record = store::keys::DecodeResourceRecord(value);
    ASSERT_TRUE(record.has_value());
    const size_t payload_at = value.size() - record->payload.size();
    const size_t at = salt ? payload_at + 3 : payload_at + record->payload.size() / 2;
    value[at] = static_cast<char>(value[at] ^ 0x01);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), resources, key, value).ok());
    raw.reset();

    const RunResult run = Verify();
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find("record Patient/" + id + "/_history/1"), std::string::npos)
        << run.output;

    testing::RawStoreDb again(Data());
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(
        again.db()->Put(rocksdb::WriteOptions(), again.cf(store::keys::kResources), key, original)
            .ok());
  }
  EXPECT_EQ(Verify().exit_code, 0);
}

}  // namespace
}  // namespace medhub
