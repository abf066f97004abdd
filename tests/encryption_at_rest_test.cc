// Encryption at rest with the real binary: a Synthea patient imported by `medhub import` is
// readable through the API but its name and identifiers are in no file of the data
// directory; `medhub patient erase` shreds it (410 Gone, the key record gone, the scan still
// empty) and `medhub ledger verify` reports the erased versions and exits 0. Without the
// master key, or with another one, every command exits 2 and writes nothing.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/ids.h"
#include "core/json.h"
#include "store/keys.h"
#include "support/http_client.h"
#include "support/process.h"

namespace medhub {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpClient;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The needles found in any file under `dir` (SST, WAL, MANIFEST, blob, ledger...),
// compared case-insensitively.
std::vector<std::string> FindInFiles(const std::filesystem::path& dir,
                                     const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string bytes = Lower(ReadAll(e.path()));
    for (const std::string& n : needles)
      if (bytes.find(Lower(n)) != std::string::npos)
        found.push_back(n + " in " + e.path().filename().string());
  }
  return found;
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunMedhub(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {MEDHUB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  p.ReadLineContaining("\x01 read until the end", 120s);
  RunResult r;
  r.exit_code = p.Wait(60s);
  r.output = p.output();
  return r;
}

// Sets or unsets MEDHUB_MASTER_KEY for a scope (children inherit the environment).
class ScopedKey {
 public:
  explicit ScopedKey(const char* value) {
    if (const char* old = getenv("MEDHUB_MASTER_KEY")) old_ = old;
    if (value) {
      setenv("MEDHUB_MASTER_KEY", value, 1);
    } else {
      unsetenv("MEDHUB_MASTER_KEY");
    }
  }
  ~ScopedKey() {
    if (old_) {
      setenv("MEDHUB_MASTER_KEY", old_->c_str(), 1);
    } else {
      unsetenv("MEDHUB_MASTER_KEY");
    }
  }

 private:
  std::optional<std::string> old_;
};

struct SyntheaPatient {
  std::string file, id, family, given, phone;
  std::vector<std::string> identifiers;  // SSN, MRN, driver's license, passport...
};

SyntheaPatient FirstPatient() {
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"))
    files.push_back(e.path());
  std::sort(files.begin(), files.end());
  SyntheaPatient p;
  p.file = files.front().string();
  const json::Value bundle = json::Parse(ReadAll(files.front())).value();
  for (const json::Value& e : bundle.find("entry")->items()) {
    const json::Value* r = e.find("resource");
    if (r->get_string("resourceType") != "Patient") continue;
    p.id = std::string(r->get_string("id"));
    const json::Value& name = r->find("name")->items().front();
    p.family = std::string(name.get_string("family"));
    p.given = name.find("given")->items().front().text();
    for (const json::Value& i : r->find("identifier")->items())
      p.identifiers.emplace_back(i.get_string("value"));
    if (const json::Value* t = r->find("telecom"))
      p.phone = std::string(t->items().front().get_string("value"));
  }
  return p;
}

// The value of the data-key record of `patient` (default column family), read from a
// checkpoint-free read-only open.
std::string KeyRecord(const std::string& dir, const std::string& patient) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), store::keys::kResources,
                           store::keys::kCurrent, store::keys::kIndex, store::keys::kCompartment,
                           store::keys::kChanges, store::keys::kTypeHistory, store::keys::kRecords})
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, cfs, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return "";
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string v;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "key/p/" + patient, &v).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  return v;
}

// `medhub serve` on DIR with a token of a patient client for `patient`.
class Server {
 public:
  Server(const std::string& dir, const std::string& patient, const std::string& client_id) {
    const RunResult added =
        RunMedhub({"client", "add", "--data", dir, "--client-id", client_id, "--role", "patient",
                   "--patient", patient, "--scope", "patient/*.read"});
    EXPECT_EQ(added.exit_code, 0) << added.output;
    const size_t at = added.output.find("client_secret: ");
    const std::string secret =
        at == std::string::npos
            ? ""
            : added.output.substr(at + 15, added.output.find('\n', at) - at - 15);
    process_.emplace(
        std::vector<std::string>{MEDHUB_BINARY, "serve", "--data", dir, "--port", "0"});
    const std::string line = process_->ReadLineContaining("listening on http://", 60s);
    EXPECT_FALSE(line.empty()) << process_->output();
    client_.emplace("127.0.0.1", static_cast<uint16_t>(testing::PortFromListeningLine(line)));
    auto token = client_->Send(
        "POST", "/auth/token",
        "grant_type=client_credentials&client_id=" + client_id + "&client_secret=" + secret,
        {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(token.status, 200) << token.body;
    auto parsed = json::Parse(token.body);
    if (parsed.ok()) bearer_ = "Bearer " + std::string(parsed->get_string("access_token"));
  }
  ~Server() {
    process_->Signal(SIGTERM);
    EXPECT_EQ(process_->Wait(60s), 0);
  }
  testing::ClientResponse Get(const std::string& target) {
    return client_->Send("GET", target, "", {{"Authorization", bearer_}});
  }

 private:
  std::optional<ChildProcess> process_;
  std::optional<HttpClient> client_;
  std::string bearer_;
};

class EncryptionAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ctest sets the test key (CMakeLists.txt); run directly, the test sets its own.
    setenv("MEDHUB_MASTER_KEY", "cafebabecafebabecafebabecafebabecafebabecafebabecafebabecafebabe", 0);
    dir_ = std::filesystem::temp_directory_path() / ("medhub-crypto-e2e-" + NewId());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(EncryptionAtRestTest, APatientIsReadableButNotOnDiskAndEraseShredsIt) {
  const SyntheaPatient p = FirstPatient();
  ASSERT_FALSE(p.id.empty());
  ASSERT_GE(p.identifiers.size(), 3u);  // Synthea: id, MRN, SSN, driver's license, ...
  std::vector<std::string> needles = {p.family, p.given, p.phone};
  needles.insert(needles.end(), p.identifiers.begin(), p.identifiers.end());
  const std::string data = (dir_ / "data").string();
  const RunResult import = RunMedhub({"import", "--data", data, p.file});
  ASSERT_EQ(import.exit_code, 0) << import.output;

  // Before erase: readable through the API, and in no file.
  {
    Server server(data, p.id, "reader");
    auto r = server.Get("/fhir/Patient/" + p.id);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(p.family), std::string::npos);
    auto by_name = server.Get("/fhir/Patient?family=" + Lower(p.family).substr(0, 4));
    EXPECT_NE(by_name.body.find(p.id), std::string::npos) << by_name.body;
    auto everything = server.Get("/fhir/Patient/" + p.id + "/$everything");
    EXPECT_EQ(everything.status, 200);
  }
  EXPECT_EQ(FindInFiles(dir_, needles), std::vector<std::string>{});
  const std::string wrapped = KeyRecord(data, p.id);
  ASSERT_EQ(wrapped[0], 'W');

  const RunResult erase = RunMedhub({"patient", "erase", "--data", data, p.id});
  ASSERT_EQ(erase.exit_code, 0) << erase.output;
  EXPECT_NE(erase.output.find("erased Patient/" + p.id), std::string::npos);

  // After erase: the wrapped key is in no file, its record is a tombstone, nothing leaks.
  EXPECT_EQ(KeyRecord(data, p.id)[0], 'E');
  std::vector<std::string> with_key = needles;
  with_key.push_back(wrapped.substr(1));
  EXPECT_EQ(FindInFiles(dir_, with_key), std::vector<std::string>{});
  {
    Server server(data, p.id, "reader-after");
    EXPECT_EQ(server.Get("/fhir/Patient/" + p.id).status, 410);
    auto everything = server.Get("/fhir/Patient/" + p.id + "/$everything");
    EXPECT_TRUE(everything.status == 410 || everything.status == 404) << everything.status;
    auto obs = server.Get("/fhir/Observation?patient=" + p.id);
    EXPECT_EQ(obs.status, 200);
    EXPECT_EQ(json::Parse(obs.body)->find("total")->as_int().value_or(-1), 0) << obs.body;
  }
  const RunResult verify = RunMedhub({"ledger", "verify", "--data", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("were erased"), std::string::npos) << verify.output;
  EXPECT_EQ(RunMedhub({"patient", "erase", "--data", data, p.id}).exit_code, 1);
}

TEST_F(EncryptionAtRestTest, EveryCommandNeedsTheDirectorysMasterKey) {
  const SyntheaPatient p = FirstPatient();
  const std::string data = (dir_ / "data").string();
  {
    ScopedKey none(nullptr);
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"import", "--data", data, p.file},
                                               {"serve", "--data", data, "--port", "0"},
                                               {"user", "list", "--data", data},
                                               {"patient", "erase", "--data", data, p.id}}) {
      const RunResult r = RunMedhub(args);
      EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.output;
    }
    EXPECT_FALSE(std::filesystem::exists(data));  // no data written
  }
  ASSERT_EQ(RunMedhub({"import", "--data", data, p.file}).exit_code, 0);
  {
    ScopedKey other("0000000000000000000000000000000000000000000000000000000000000001");
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"import", "--data", data, p.file},
                                               {"ledger", "verify", "--data", data},
                                               {"serve", "--data", data, "--port", "0"}}) {
      const RunResult r = RunMedhub(args);
      EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.output;
    }
  }
  // A key file with the right key wins over a wrong environment variable.
  const std::string key_file = (dir_ / "right.key").string();
  std::ofstream(key_file) << getenv("MEDHUB_MASTER_KEY") << "\n";
  ScopedKey other("0000000000000000000000000000000000000000000000000000000000000001");
  const RunResult verify =
      RunMedhub({"ledger", "verify", "--master-key-file", key_file, "--data", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

}  // namespace
}  // namespace medhub
