// Encryption at rest in the store: the master key guards the directory, bodies and
// identifying index values are not in the files, and erasing a patient shreds its data.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/aead.h"
#include "core/hash.h"
#include "core/ids.h"
#include "fhir/resource.h"
#include "store/keys.h"
#include "store/readings_keys.h"
#include "store/store.h"
#include "store/test_util.h"

namespace medhub::store {
namespace {

// Sets or unsets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Every byte of every file under `dir`, lower-cased.
std::string AllFileBytes(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  for (char& c : all) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return all;
}

using testing::PutOp;
WriteOp Put(std::string_view body) { return PutOp(body); }

constexpr char kPatient[] =
    R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-55-1234"}],"name":[{"family":"Quetzalcoatl","given":["Xiomara"]}],"telecom":[{"system":"phone","value":"555-867-5309"}],"birthDate":"1950-03-04"})";
constexpr char kObservation[] =
    R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":120,"unit":"mm[Hg]"},"note":[{"text":"Xiomara reports dizziness"}]})";
constexpr char kOther[] =
    R"({"resourceType":"Patient","id":"p2","name":[{"family":"Quetzal","given":["Bo"]}]})";
constexpr char kOrganization[] =
    R"({"resourceType":"Organization","id":"org1","name":"General Hospital"})";

class EncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-crypto-test-" + NewId());
    key_ = RandomBytes(32);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<std::unique_ptr<Store>> Open(std::string key, bool plaintext = false) {
    StoreOptions o;
    o.path = dir_.string();
    o.master_key = std::move(key);
    o.plaintext_for_benchmarks = plaintext;
    return OpenRocksStore(o);
  }
  void Fill(bool plaintext = false) {
    auto s = Open(plaintext ? "" : key_, plaintext);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    std::vector<WriteOp> ops;
    for (const char* body : {kPatient, kObservation, kOther, kOrganization})
      ops.push_back(Put(body));
    ASSERT_TRUE(store_->Commit(std::move(ops)).ok());
  }
  std::vector<std::string> Search(std::string_view type,
                                  std::vector<std::pair<std::string, std::string>> params) {
    return testing::SearchIds(*store_, type, params);
  }

  std::filesystem::path dir_;
  std::string key_;
  std::unique_ptr<Store> store_;
};

using V = std::vector<std::string>;

TEST_F(EncryptionTest, WithoutAMasterKeyNothingOpensAndNothingIsWritten) {
  ScopedEnv env("MEDHUB_MASTER_KEY", nullptr);
  EXPECT_EQ(Open("").status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(std::filesystem::exists(dir_));
  ScopedEnv bad("MEDHUB_MASTER_KEY", "not a key");
  EXPECT_EQ(Open("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_));
}

TEST_F(EncryptionTest, OnlyTheMasterKeyTheDirectoryWasCreatedWithOpensIt) {
  Fill();
  store_.reset();
  EXPECT_EQ(Open(RandomBytes(32)).status().code(), StatusCode::kUnauthenticated);
  {
    ScopedEnv env("MEDHUB_MASTER_KEY", nullptr);
    EXPECT_EQ(Open("").status().code(), StatusCode::kUnauthenticated);
  }
  {  // the environment variable is the fallback, hex or base64
    ScopedEnv env("MEDHUB_MASTER_KEY", ToBase64(key_).c_str());
    auto s = Open("");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Read("Patient", "p1").ok());
  }
  auto s = Open(key_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto p = (*s)->Read("Patient", "p1");
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->json.find("Quetzalcoatl"), std::string::npos);
  // A plaintext (benchmark) open of an encrypted store is refused.
  s->reset();
  EXPECT_EQ(Open("", true).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(EncryptionTest, SearchOnHashedValuesKeepsItsSemantics) {
  Fill();
  EXPECT_EQ(Search("Patient", {{"name", "quetz"}}), (V{"p1", "p2"}));
  EXPECT_EQ(Search("Patient", {{"family", "Quetzalcoatl"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"family:exact", "Quetzalcoatl"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"family:exact", "quetzalcoatl"}}), V{});
  EXPECT_EQ(Search("Patient", {{"family:contains", "alco"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"name", "quetz"}, {"given:contains", "iom"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"identifier", "http://hl7.org/fhir/sid/us-ssn|999-55-1234"}}),
            (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"identifier", "999-55-1234"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"identifier", "999-55-1235"}}), V{});
  EXPECT_EQ(Search("Patient", {{"telecom", "555-867-5309"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"birthdate", "ge1950"}}), (V{"p1"}));
  EXPECT_EQ(Search("Organization", {{"name", "general hosp"}}), (V{"org1"}));
  EXPECT_EQ(Search("Organization", {{"name", "general hospital and more text past the limit"}}),
            V{});
}

TEST_F(EncryptionTest, TheFilesHoldNeitherBodiesNorIdentifyingIndexValues) {
  Fill(/*plaintext=*/true);  // the control: the scan finds them in a plaintext store
  store_.reset();
  std::string files = AllFileBytes(dir_);
  EXPECT_NE(files.find("quetzalcoatl"), std::string::npos);
  EXPECT_NE(files.find("999-55-1234"), std::string::npos);
  std::filesystem::remove_all(dir_);

  Fill();
  store_.reset();
  files = AllFileBytes(dir_);
  for (const char* secret : {"quetzalcoatl", "quetzal", "xiomara", "999-55-1234", "555-867-5309",
                             "dizziness", "general hospital"})
    EXPECT_EQ(files.find(secret), std::string::npos) << secret;
}

TEST_F(EncryptionTest, ErasingAPatientShredsItsRecordAndLeavesOthersReadable) {
  Fill();
  auto report = store_->ErasePatient("p1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->resources, 2u);
  EXPECT_GT(report->index_keys, 0u);
  EXPECT_EQ(store_->Read("Patient", "p1").status().code(), StatusCode::kGone);
  EXPECT_EQ(store_->Read("Observation", "o1").status().code(), StatusCode::kGone);
  EXPECT_EQ(store_->ReadVersion("Observation", "o1", 1).status().code(), StatusCode::kGone);
  auto many = store_->ReadMany({{"Patient", "p1"}, {"Patient", "p2"}});
  EXPECT_EQ(many[0].status().code(), StatusCode::kGone);
  EXPECT_TRUE(many[1].ok());
  EXPECT_EQ(Search("Patient", {{"name", "quetz"}}), (V{"p2"}));
  EXPECT_EQ(Search("Patient", {}), (V{"p2"}));
  EXPECT_EQ(Search("Observation", {{"code", "8480-6"}}), V{});
  EXPECT_TRUE(store_->Compartment("p1")->empty());
  EXPECT_TRUE(store_->Read("Organization", "org1").ok());
  auto history = store_->History({});
  ASSERT_TRUE(history.ok());
  for (const auto& v : history->versions) EXPECT_NE(v.id, "p1");
  // The change feed keeps the metadata (the ledger's view stays consistent).
  EXPECT_EQ(store_->ChangesSince(0, 10)->size(), 4u);
  // The patient's data cannot come back, and erasing twice says so.
  std::vector<WriteOp> again;
  again.push_back(Put(kObservation));
  EXPECT_EQ(store_->Commit(std::move(again)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ErasePatient("p1").status().code(), StatusCode::kGone);
  EXPECT_EQ(store_->ErasePatient("nobody").status().code(), StatusCode::kNotFound);
  // After reopening (the key cache is gone) the erased data stays unreadable.
  store_.reset();
  auto s = Open(key_);
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  EXPECT_EQ(store_->Read("Observation", "o1").status().code(), StatusCode::kGone);
  EXPECT_TRUE(store_->Read("Patient", "p2").ok());
}

TEST_F(EncryptionTest, AChangedOrMovedCiphertextIsDataLoss) {
  Fill();
  store_.reset();
  {  // change one ciphertext byte, and copy Patient/p2's record under Patient/p1's identity
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), keys::kResources,
                             keys::kCurrent, keys::kIndex, keys::kCompartment, keys::kChanges,
                             keys::kTypeHistory, keys::kRecords, readings::kReadings})
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.string(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string obs, p2;
    ASSERT_TRUE(db->Get({}, handles[1], keys::ResourceKey("Observation", "o1", 1), &obs).ok());
    obs[obs.size() - 20] ^= 1;
    ASSERT_TRUE(db->Put({}, handles[1], keys::ResourceKey("Observation", "o1", 1), obs).ok());
    ASSERT_TRUE(db->Get({}, handles[1], keys::ResourceKey("Patient", "p2", 1), &p2).ok());
    ASSERT_TRUE(db->Put({}, handles[1], keys::ResourceKey("Patient", "p1", 1), p2).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  auto s = Open(key_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Read("Observation", "o1").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ((*s)->Read("Patient", "p1").status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE((*s)->Read("Patient", "p2").ok());
}

}  // namespace
}  // namespace medhub::store
