#include "cli/demo_accounts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli/importer.h"
#include "core/ids.h"
#include "core/time.h"
#include "security/accounts.h"
#include "server/fhir_api.h"

namespace medhub::cli {
namespace {

TEST(DemoAccountsTest, EveryRoleGetsAnAccountThatLogsInAndARerunKeepsThePasswords) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-demo-accounts-" + NewId());
  auto store = store::OpenRocksStore({dir.string()});
  ASSERT_TRUE(store.ok());
  server::FhirApi api(store->get(), server::FhirApiOptions{});
  Importer importer(&api);
  ImportStats stats;
  const std::string synthea = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  auto files = Importer::ListFiles({synthea});
  ASSERT_TRUE(files.ok());
  ASSERT_GE(files->size(), 3u);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(importer.ImportFile((*files)[i], &stats).ok());

  auto first = EnsureDemoAccounts(store->get(), dir.string(), stats.largest_patient_id);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 5u);
  const DemoAccount& caring = (*first)[1];
  const DemoAccount& other = (*first)[2];
  EXPECT_EQ((*first)[0].patient, stats.largest_patient_id);
  EXPECT_FALSE(caring.organization.empty());
  EXPECT_NE(caring.organization, other.organization);

  security::Accounts accounts(store->get(), {});
  for (const DemoAccount& a : *first) {
    auto who = accounts.Authenticate(a.username, a.password, NowMicros());
    EXPECT_TRUE(who.ok()) << a.username << ": " << who.status().ToString();
  }
  auto again = EnsureDemoAccounts(store->get(), dir.string(), stats.largest_patient_id);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < first->size(); ++i) EXPECT_EQ((*again)[i].password, (*first)[i].password);

  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(DemoGuideTest, ShowsEachAccountWithItsTokenRequestAndRequestsOnThePatient) {
  DemoGuide g;
  g.url = "https://127.0.0.1:8443";
  g.curl = "curl --cacert /d/tls/cert.pem";
  g.data_dir = "/d";
  g.resources = 100;
  g.patients = 3;
  g.patient = "p-1";
  g.accounts = {{"dr.caring", "practitioner", "org1", "", "pw1", "a doctor"},
                {"patient", "patient", "", "p-1", "pw2", "the patient"}};
  std::ostringstream out;
  PrintDemoGuide(g, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("serving 100 resources of 3 patients from /d"), std::string::npos) << text;
  EXPECT_NE(text.find("practitioner account dr.caring / pw1  (a doctor, Organization/org1)"),
            std::string::npos);
  EXPECT_NE(text.find("-d username=patient -d password=pw2 https://127.0.0.1:8443/auth/token"),
            std::string::npos);
  EXPECT_NE(text.find("/fhir/Patient/p-1/$everything"), std::string::npos);
  EXPECT_NE(text.find("curl --cacert /d/tls/cert.pem https://127.0.0.1:8443/fhir/metadata"),
            std::string::npos);
  g.accounts.clear();
  std::ostringstream bare;
  PrintDemoGuide(g, bare);
  EXPECT_EQ(bare.str().find("Demo accounts"), std::string::npos);
}

}  // namespace
}  // namespace medhub::cli
