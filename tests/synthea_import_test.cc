// Imports all shared Synthea patients and checks that each patient's $everything returns
// exactly the resources of that patient's Bundle, with every reference resolved.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/importer.h"
#include "core/ids.h"
#include "core/json.h"
#include "fhir/resource.h"
#include "server/fhir_api.h"
#include "store/store.h"

namespace medhub {
namespace {

std::string ReadFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void CollectRefs(const json::Value& v, std::vector<std::string>* out) {
  if (v.is_array()) {
    for (const auto& i : v.items()) CollectRefs(i, out);
  } else if (v.is_object()) {
    for (const auto& [k, c] : v.members()) {
      if (k == "reference" && c.is_string()) {
        out->push_back(c.text());
      } else if (k != "contained") {
        CollectRefs(c, out);
      }
    }
  }
}

class SyntheaImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("medhub-synthea-" + NewId()));
    auto s = store::OpenRocksStore({dir_->string()});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = s->release();
    api_ = new server::FhirApi(store_, server::FhirApiOptions{"http://test/fhir"});
    cli::Importer importer(api_);
    auto files = cli::Importer::ListFiles({std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"});
    ASSERT_TRUE(files.ok());
    files_ = new std::vector<std::string>(*files);
    stats_ = new cli::ImportStats();
    for (const auto& f : *files_) ASSERT_TRUE(importer.ImportFile(f, stats_).ok());
  }
  static void TearDownTestSuite() {
    delete api_;
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete files_;
    delete stats_;
  }

  static server::HttpResponse Get(std::string_view target) {
    return api_->Handle(server::HttpRequest::Get(target));
  }

  static std::filesystem::path* dir_;
  static store::Store* store_;
  static server::FhirApi* api_;
  static std::vector<std::string>* files_;
  static cli::ImportStats* stats_;
};
std::filesystem::path* SyntheaImportTest::dir_;
store::Store* SyntheaImportTest::store_;
server::FhirApi* SyntheaImportTest::api_;
std::vector<std::string>* SyntheaImportTest::files_;
cli::ImportStats* SyntheaImportTest::stats_;

TEST_F(SyntheaImportTest, AllThirtyNinePatientsImportWithoutAFailure) {
  EXPECT_EQ(files_->size(), 39u);
  EXPECT_EQ(stats_->resources_ok, 11953u);
  EXPECT_EQ(stats_->resources_failed, 0u);
  EXPECT_TRUE(stats_->errors.empty()) << stats_->errors.front();
}

TEST_F(SyntheaImportTest, EverythingReturnsExactlyEachBundlesResourcesWithReferencesResolved) {
  for (const auto& file : *files_) {
    auto bundle = fhir::ParseResource(ReadFile(file));
    ASSERT_TRUE(bundle.ok());
    std::map<std::string, int> expected;
    std::string patient;
    for (const auto& e : bundle->find("entry")->items()) {
      const json::Value& r = *e.find("resource");
      ++expected[std::string(fhir::ResourceType(r))];
      if (fhir::ResourceType(r) == "Patient") patient = std::string(fhir::ResourceId(r));
    }
    ASSERT_FALSE(patient.empty()) << file;
    server::HttpResponse resp = Get("/fhir/Patient/" + patient + "/$everything");
    ASSERT_EQ(resp.status, 200) << file << ": " << resp.body.substr(0, 300);
    auto everything = json::Parse(resp.body);
    ASSERT_TRUE(everything.ok());
    std::map<std::string, int> got;
    std::set<std::string> present;
    std::vector<std::string> refs;
    for (const auto& e : everything->find("entry")->items()) {
      const json::Value& r = *e.find("resource");
      ++got[std::string(fhir::ResourceType(r))];
      present.insert(std::string(fhir::ResourceType(r)) + "/" + std::string(fhir::ResourceId(r)));
      CollectRefs(r, &refs);
    }
    EXPECT_EQ(got, expected) << file;
    EXPECT_EQ(everything->find("total")->as_int(), static_cast<int64_t>(present.size()));
    for (const auto& ref : refs) {
      if (ref.starts_with("#")) continue;  // contained resources
      EXPECT_FALSE(ref.starts_with("urn:")) << file << ": unresolved " << ref;
      EXPECT_TRUE(present.contains(ref)) << file << ": " << ref << " is not in $everything";
    }
  }
}

TEST_F(SyntheaImportTest, ImportingTheSameFilesAgainChangesNothing) {
  const uint64_t before = store_->LastSequence();
  cli::Importer importer(api_);
  cli::ImportStats again;
  for (const auto& f : *files_) ASSERT_TRUE(importer.ImportFile(f, &again).ok());
  EXPECT_EQ(again.resources_ok, 11953u);
  EXPECT_EQ(again.resources_failed, 0u);
  EXPECT_EQ(store_->LastSequence(), before);
}

TEST_F(SyntheaImportTest, SearchFindsAPatientsBloodPressurePanelsByCodeAndDate) {
  auto bundle = fhir::ParseResource(ReadFile(files_->front()));
  ASSERT_TRUE(bundle.ok());
  std::string patient;
  int panels = 0;
  for (const auto& e : bundle->find("entry")->items()) {
    const json::Value& r = *e.find("resource");
    if (fhir::ResourceType(r) == "Patient") patient = std::string(fhir::ResourceId(r));
    if (fhir::ResourceType(r) == "Observation" &&
        json::Serialize(*r.find("code")).find("\"55284-4\"") != std::string::npos)
      ++panels;
  }
  server::HttpRequest req;
  req.method = "GET";
  req.path = "/fhir/Observation";
  req.query = {{"patient", patient}, {"code", "http://loinc.org|55284-4"}, {"_summary", "count"}};
  auto counted = json::Parse(api_->Handle(req).body);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->find("total")->as_int(), panels);
  req.query = {{"patient", patient},
               {"code", "http://loinc.org|55284-4"},
               {"date", "ge1900"},
               {"date", "lt3000"}};
  auto dated = json::Parse(api_->Handle(req).body);
  ASSERT_TRUE(dated.ok());
  EXPECT_EQ(dated->find("total")->as_int(), panels);
}

}  // namespace
}  // namespace medhub
