// The consortium: two institution nodes (real `medhub serve` processes, each with its own
// data directory and a different part of the Synthea sample, plus one person both have
// seen under different local ids and slightly different demographics) and a center that
// syncs both with client-credentials tokens, links the shared person, serves
// $everything across both institutions, and on a second sync pulls only what changed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "support/device_readings.h"
#include "sync_test_util.h"

namespace medhub::synctest {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size()))
    s->replace(pos, from.size(), to);
}

// A copy of a patient Bundle as another institution would hold it: every id new, the
// given name misspelt, a shorter address line, no national or shared identifiers.
// Returns the new Patient id; writes the copy to `out_path`.
std::string WriteOtherInstitutionsCopy(const std::string& bundle_path,
                                       const std::string& out_path) {
  std::string text = ReadFile(bundle_path);
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok());
  std::map<std::string, std::string> renamed;
  for (const json::Value& e : doc->find("entry")->items())
    renamed[std::string(e.find("resource")->get_string("id"))] = NewId();
  for (const auto& [from, to] : renamed) ReplaceAll(&text, from, to);
  doc = json::Parse(text);
  json::Value& patient = *doc->find("entry")->items()[0].find("resource");
  EXPECT_EQ(patient.get_string("resourceType"), "Patient");
  patient.erase("identifier");
  json::Value& given = patient.find("name")->items()[0].find("given")->items()[0];
  std::string g = given.text();
  g.back() = g.back() == 'y' ? 'i' : 'y';
  given = json::Value::String(g);
  json::Value& line = patient.find("address")->items()[0].find("line")->items()[0];
  line = json::Value::String(line.text().substr(0, line.text().rfind(' ')));
  std::ofstream(out_path) << json::Serialize(*doc);
  return std::string(patient.get_string("id"));
}

std::string PatientIdOf(const std::string& bundle_path) {
  auto doc = json::Parse(ReadFile(bundle_path));
  return std::string(doc->find("entry")->items()[0].find("resource")->get_string("id"));
}

TEST(SyncConsortiumTest, CenterSyncsTwoInstitutionsLinksTheSharedPersonAndPullsOnlyChanges) {
  const auto dir = TempDir("consortium");
  const std::string east = (dir / "east").string(), west = (dir / "west").string();
  const std::string center = (dir / "center").string();
  const std::vector<std::string> files = SyntheaFiles();
  ASSERT_GE(files.size(), 8u);
  const std::vector<std::string> east_files(files.begin(), files.begin() + 4);
  std::vector<std::string> west_files(files.begin() + 4, files.begin() + 8);
  const std::string shared_east_id = PatientIdOf(east_files[0]);
  const std::string copy = (dir / "shared-person-at-west.json").string();
  const std::string shared_west_id = WriteOtherInstitutionsCopy(east_files[0], copy);
  west_files.push_back(copy);
  const size_t east_count = Import(east, east_files);
  const size_t west_count = Import(west, west_files);
  ASSERT_GT(east_count, 0u);
  ASSERT_GT(west_count, 0u);
  AddServiceClient(east, "center", (dir / "east.secret").string());
  AddServiceClient(west, "center", (dir / "west.secret").string());
  // East's own writer: the new versions of the second sync go in through its API.
  AddServiceClient(east, "writer", (dir / "writer.secret").string(), "system/*.*");

  auto east_node = std::make_unique<Node>(east);
  auto west_node = std::make_unique<Node>(west);
  ASSERT_NE(east_node->port(), 0);
  ASSERT_NE(west_node->port(), 0);
  for (const auto& [name, node] : {std::pair{"east", east_node.get()}, {"west", west_node.get()}}) {
    RunResult added = Medhub({"sync", "add-source", "--data", center, name, "--fhir-base",
                              node->base(), "--client-id", "center", "--client-secret-file",
                              (dir / (std::string(name) + ".secret")).string()});
    ASSERT_EQ(added.code, 0) << added.output;
  }
  // Every version each institution holds but its AuditEvents, which stay there (bundles
  // share a few Organizations and Practitioners, so this is a little below the number of
  // entries imported).
  auto versions = [&](Node* n, const char* name) {
    AuthedClient c(n->port(), n->Token("center", (dir / (std::string(name) + ".secret")).string()));
    return SyncableVersions(&c);
  };
  const long east_versions = versions(east_node.get(), "east");
  const long west_versions = versions(west_node.get(), "west");
  EXPECT_LE(east_versions, static_cast<long>(east_count));
  EXPECT_GT(east_versions, static_cast<long>(east_count) - 20);
  RunResult first = Medhub({"sync", "run", "--data", center, "--page-size", "200"});
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_EQ(SyncCount(first.output, "east", "applied"), east_versions);
  EXPECT_EQ(SyncCount(first.output, "west", "applied"), west_versions);
  EXPECT_NE(first.output.find("linked 1,"), std::string::npos) << first.output;
  // The institutions audited the sync's requests; none of those AuditEvents was pulled.
  EXPECT_GT(SyncCount(first.output, "east", "audit"), 0) << first.output;
  EXPECT_EQ(SyncCount(first.output, "east", "fetched"),
            east_versions + SyncCount(first.output, "east", "audit"))
      << first.output;

  AddServiceClient(center, "viewer", (dir / "viewer.secret").string());
  AddServiceClient(center, "auditor", (dir / "auditor.secret").string(), "user/AuditEvent.read",
                   "auditor");
  {
    Node center_node(center);
    const std::string token = center_node.Token("viewer", (dir / "viewer.secret").string());
    const std::vector<std::pair<std::string, std::string>> auth{
        {"Authorization", "Bearer " + token}};
    testing::HttpClient c("127.0.0.1", center_node.port());
    // Provenance: the institution, its id and its version.
    auto p = c.Send("GET", "/fhir/Patient/east-" + shared_east_id, "", auth);
    ASSERT_EQ(p.status, 200) << p.body;
    auto pdoc = json::Parse(p.body);
    EXPECT_EQ(pdoc->find("meta")->get_string("source"),
              east_node->base() + "/Patient/" + shared_east_id + "/_history/1");
    // The MPI linked the two records of the shared person.
    auto links = c.Send("GET", "/api/mpi/patients/east-" + shared_east_id, "", auth);
    ASSERT_EQ(links.status, 200) << links.body;
    EXPECT_NE(links.body.find("Patient/west-" + shared_west_id), std::string::npos) << links.body;
    // $everything spans both institutions.
    auto all = c.Send("GET", "/fhir/Patient/east-" + shared_east_id + "/$everything", "", auth);
    ASSERT_EQ(all.status, 200);
    EXPECT_NE(all.body.find("\"reference\":\"Patient/west-" + shared_west_id + "\""),
              std::string::npos);
    EXPECT_NE(all.body.find("\"reference\":\"Patient/east-" + shared_east_id + "\""),
              std::string::npos);
    // Unlink through the API: $everything is one institution's again; link restores it.
    auto un =
        c.Send("POST", "/api/mpi/unlink", R"({"patient":"Patient/west-)" + shared_west_id + "\"}",
               {auth[0], {"Content-Type", "application/json"}});
    ASSERT_EQ(un.status, 200) << un.body;
    all = c.Send("GET", "/fhir/Patient/east-" + shared_east_id + "/$everything", "", auth);
    EXPECT_EQ(all.body.find("Patient/west-" + shared_west_id), std::string::npos);
    auto relink = c.Send("POST", "/api/mpi/link",
                         R"({"a":"Patient/east-)" + shared_east_id + R"(","b":"Patient/west-)" +
                             shared_west_id + "\"}",
                         {auth[0], {"Content-Type", "application/json"}});
    ASSERT_EQ(relink.status, 200) << relink.body;
    EXPECT_NE(relink.body.find("Patient/west-" + shared_west_id), std::string::npos);
    auto review = c.Send("GET", "/api/mpi/review", "", auth);
    EXPECT_EQ(review.status, 200);
    EXPECT_NE(review.body.find("\"review\":["), std::string::npos);
    auto bad = c.Send("POST", "/api/mpi/link", "not json", {auth[0]});
    EXPECT_EQ(bad.status, 400);
    // The MPI needs a token (401 with a challenge) of an organization admin or a service.
    auto anonymous = c.Send("GET", "/api/mpi/review");
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;
    EXPECT_EQ(
        c.Send("POST", "/api/mpi/unlink", R"({"patient":"Patient/west-)" + shared_west_id + "\"}",
               {{"Content-Type", "application/json"}})
            .status,
        401);
    const std::string auditor = center_node.Token("auditor", (dir / "auditor.secret").string());
    auto refused = c.Send("GET", "/api/mpi/review", "", {{"Authorization", "Bearer " + auditor}});
    EXPECT_EQ(refused.status, 403) << refused.body;
  }

  std::string deleted_id;
  // New writes at east, by a client that may write: three Observations and an update of
  // the shared Patient.
  {
    AuthedClient e(east_node->port(), east_node->Token("writer", (dir / "writer.secret").string()));
    for (int i = 0; i < 3; ++i) {
      auto r = e.Send("POST", "/fhir/Observation",
                      R"({"resourceType":"Observation","status":"final","code":{"text":"new )" +
                          std::to_string(i) + R"("},"subject":{"reference":"Patient/)" +
                          shared_east_id + "\"}}",
                      {{"Content-Type", "application/fhir+json"}});
      ASSERT_EQ(r.status, 201) << r.body;
    }
    auto cur = json::Parse(e.Get("/fhir/Patient/" + shared_east_id).body);
    cur->set("active", json::Value::Bool(true));
    auto r = e.Send("PUT", "/fhir/Patient/" + shared_east_id, json::Serialize(*cur),
                    {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    // And a delete, which must reach the center too.
    auto some = json::Parse(e.Get("/fhir/Condition?_count=1").body);
    ASSERT_TRUE(some.ok() && some->find("entry"));
    deleted_id = some->find("entry")->items()[0].find("resource")->get_string("id");
    ASSERT_EQ(e.Send("DELETE", "/fhir/Condition/" + deleted_id).status, 204);
  }
  RunResult second = Medhub({"sync", "run", "--data", center});
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_EQ(SyncCount(second.output, "east", "applied"), 4);
  EXPECT_EQ(SyncCount(second.output, "east", "deleted"), 1);
  EXPECT_EQ(SyncCount(second.output, "west", "applied"), 0);
  // Only the changes crossed the wire, apart from the versions at the checkpoint's own
  // instant, which are fetched again (_since is inclusive) and skipped, and the
  // institutions' AuditEvents of the requests since, which are skipped too.
  auto changes = [&](const char* name) {
    return SyncCount(second.output, name, "fetched") - SyncCount(second.output, name, "boundary") -
           SyncCount(second.output, name, "audit");
  };
  EXPECT_EQ(changes("east"), 5) << second.output;
  EXPECT_EQ(changes("west"), 0) << second.output;
  // A third run right away finds no change: the AuditEvents of the second run's own
  // requests are skipped, not applied (no feedback loop).
  RunResult third = Medhub({"sync", "run", "--data", center});
  ASSERT_EQ(third.code, 0) << third.output;
  for (const char* name : {"east", "west"}) {
    EXPECT_EQ(SyncCount(third.output, name, "applied"), 0) << third.output;
    EXPECT_EQ(SyncCount(third.output, name, "unchanged"), 0) << third.output;
    EXPECT_GT(SyncCount(third.output, name, "audit"), 0) << third.output;
  }
  {
    Node center_node(center);
    AuthedClient c(center_node.port(),
                   center_node.Token("viewer", (dir / "viewer.secret").string()));
    auto p = json::Parse(c.Get("/fhir/Patient/east-" + shared_east_id).body);
    EXPECT_EQ(p->find("meta")->get_string("source"),
              east_node->base() + "/Patient/" + shared_east_id + "/_history/2");
    EXPECT_TRUE(p->find("active") && p->find("active")->as_bool());
    EXPECT_EQ(c.Get("/fhir/Condition/east-" + deleted_id).status, 410);
    auto all = c.Get("/fhir/Patient/west-" + shared_west_id + "/$everything");
    EXPECT_NE(all.body.find("\"text\":\"new 2\""), std::string::npos);
  }
  east_node.reset();
  west_node.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(SyncConsortiumTest, ServeWithSyncEveryPullsItsSourcesInTheBackground) {
  const auto dir = TempDir("sync-every");
  const std::string source = (dir / "source").string(), center = (dir / "center").string();
  const std::vector<std::string> files = SyntheaFiles();
  ASSERT_GT(Import(source, {files[0]}), 0u);
  const std::string patient = PatientIdOf(files[0]);
  const std::string secret = (dir / "source.secret").string();
  AddServiceClient(source, "center", secret);
  AddServiceClient(center, "viewer", (dir / "viewer.secret").string());
  auto node = std::make_unique<Node>(source);
  ASSERT_EQ(Medhub({"sync", "add-source", "--data", center, "east", "--fhir-base", node->base(),
                    "--client-id", "center", "--client-secret-file", secret})
                .code,
            0);
  testing::ChildProcess serve(
      {MEDHUB_BINARY, "serve", "--data", center, "--port", "0", "--sync-every", "1"});
  const int port = testing::PortFromListeningLine(serve.ReadLineContaining("listening on", 30s));
  ASSERT_NE(port, 0);
  // The loop's first round starts a second after serve; its line reports the pull.
  const std::string line = serve.ReadLineContaining("sync east:", 120s);
  EXPECT_NE(line.find("applied"), std::string::npos) << serve.output();
  AuthedClient c(static_cast<uint16_t>(port),
                 TokenAt(static_cast<uint16_t>(port), "viewer", (dir / "viewer.secret").string()));
  EXPECT_EQ(c.Get("/fhir/Patient/east-" + patient).status, 200);
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(60s), 0);
  node.reset();  // the source stops (and finishes its compactions) before its dir goes
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The background sync writes to the store, not through the API: a care relation it brings
// in must reach the policy's cached relations, or a practitioner stays refused.
TEST(SyncConsortiumTest, ACareRelationPulledByTheBackgroundSyncOpensThePatientToItsOrganization) {
  const auto dir = TempDir("sync-relations");
  const std::string source = (dir / "source").string(), center = (dir / "center").string();
  const std::vector<std::string> files = SyntheaFiles();
  ASSERT_GT(Import(source, {files[0]}), 0u);
  const std::string patient = PatientIdOf(files[0]);
  const std::string secret = (dir / "source.secret").string();
  AddServiceClient(source, "center", secret);
  AddServiceClient(source, "writer", (dir / "writer.secret").string(), "system/*.*");
  // A practitioner of the source's clinic "sync-clinic" as the center names it.
  RunResult added = Medhub({"client", "add", "--data", center, "--client-id", "doctor", "--role",
                            "practitioner", "--scope", "user/*.read", "--org", "east-sync-clinic"});
  ASSERT_EQ(added.code, 0) << added.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(added.output, m, std::regex(R"(client_secret: (\S+))")));
  std::ofstream(dir / "doctor.secret") << m[1] << "\n";
  auto node = std::make_unique<Node>(source);
  ASSERT_EQ(Medhub({"sync", "add-source", "--data", center, "east", "--fhir-base", node->base(),
                    "--client-id", "center", "--client-secret-file", secret})
                .code,
            0);
  testing::ChildProcess serve(
      {MEDHUB_BINARY, "serve", "--data", center, "--port", "0", "--sync-every", "1"});
  const auto port = static_cast<uint16_t>(
      testing::PortFromListeningLine(serve.ReadLineContaining("listening on", 30s)));
  ASSERT_NE(port, 0);
  ASSERT_NE(serve.ReadLineContaining("sync east:", 120s), "") << serve.output();
  AuthedClient doctor(port, TokenAt(port, "doctor", (dir / "doctor.secret").string()));
  // No relation yet: refused, and the empty relations are now cached.
  auto before = doctor.Get("/fhir/Patient/east-" + patient);
  EXPECT_TRUE(before.status == 403 || before.status == 404) << before.body;
  {
    AuthedClient w(node->port(), node->Token("writer", (dir / "writer.secret").string()));
    auto org = w.Send("PUT", "/fhir/Organization/sync-clinic",
                      R"({"resourceType":"Organization","id":"sync-clinic","name":"Clinic"})",
                      {{"Content-Type", "application/fhir+json"}});
    ASSERT_TRUE(org.status == 200 || org.status == 201) << org.body;
    auto enc =
        w.Send("POST", "/fhir/Encounter",
               R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},)"
               R"("subject":{"reference":"Patient/)" +
                   patient + R"("},"serviceProvider":{"reference":"Organization/sync-clinic"}})",
               {{"Content-Type", "application/fhir+json"}});
    ASSERT_EQ(enc.status, 201) << enc.body;
  }
  // The next rounds pull the Encounter; the round that applies it invalidates the patient
  // after its line, before the next round starts (whose line is awaited too).
  for (std::string line = serve.ReadLineContaining("sync east:", 120s);
       !line.empty() && line.find("applied 0,") != std::string::npos;
       line = serve.ReadLineContaining("sync east:", 120s)) {
  }
  ASSERT_NE(serve.ReadLineContaining("sync east:", 120s), "") << serve.output();
  auto after = doctor.Get("/fhir/Patient/east-" + patient);
  EXPECT_EQ(after.status, 200) << after.body << serve.output();
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(60s), 0);
  node.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(SyncConsortiumTest, DeviceReadingsAtAnInstitutionAreSyncedAsObservationsOfThePatient) {
  const auto dir = TempDir("sync-readings");
  const std::string east = (dir / "east").string(), center = (dir / "center").string();
  AddServiceClient(east, "center", (dir / "east.secret").string());
  AddServiceClient(east, "writer", (dir / "writer.secret").string(), "system/*.*");
  const std::string device = testing::AddClient(MEDHUB_BINARY, east, "dev-1", "device",
                                                "patient/Observation.write patient/Device.read",
                                                {"--device", "dev-1", "--patient", "pa"});
  ASSERT_FALSE(device.empty());
  auto east_node = std::make_unique<Node>(east);
  ASSERT_NE(east_node->port(), 0);
  {
    AuthedClient w(east_node->port(),
                   east_node->Token("writer", (dir / "writer.secret").string()));
    const std::vector<std::pair<std::string, std::string>> fhir = {
        {"Content-Type", "application/fhir+json"}};
    ASSERT_EQ(w.Send("PUT", "/fhir/Patient/pa", R"({"resourceType":"Patient","id":"pa"})", fhir)
                  .status,
              201);
    ASSERT_EQ(w.Send("PUT", "/fhir/Device/dev-1",
                     R"({"resourceType":"Device","id":"dev-1",)"
                     R"("patient":{"reference":"Patient/pa"}})",
                     fhir)
                  .status,
              201);
    testing::HttpClient c("127.0.0.1", east_node->port());
    auto ack = testing::PostReadings(c, "dev-1", device, testing::kThreeReadings);
    ASSERT_EQ(ack.status, 200) << ack.body;
    ASSERT_NE(ack.body.find(R"("stored":[1,2,3])"), std::string::npos) << ack.body;
  }
  AuthedClient reader(east_node->port(),
                      east_node->Token("center", (dir / "east.secret").string()));
  const long versions = SyncableVersions(&reader);
  EXPECT_GE(versions, 5) << "Patient, Device and three readings";
  RunResult added = Medhub({"sync", "add-source", "--data", center, "east", "--fhir-base",
                            east_node->base(), "--client-id", "center", "--client-secret-file",
                            (dir / "east.secret").string()});
  ASSERT_EQ(added.code, 0) << added.output;
  RunResult synced = Medhub({"sync", "run", "--data", center});
  ASSERT_EQ(synced.code, 0) << synced.output;
  EXPECT_EQ(SyncCount(synced.output, "east", "applied"), versions) << synced.output;

  AddServiceClient(center, "viewer", (dir / "viewer.secret").string());
  Node center_node(center);
  AuthedClient viewer(center_node.port(),
                      center_node.Token("viewer", (dir / "viewer.secret").string()));
  auto count = json::Parse(viewer.Get("/fhir/Observation?patient=east-pa&_summary=count").body);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->find("total")->as_int().value_or(-1), 3);
  // The heart rate, with its provenance: the institution's reading id, version 1.
  auto hr = viewer.Get("/fhir/Observation?patient=east-pa&code=http://loinc.org|8867-4");
  ASSERT_EQ(hr.status, 200) << hr.body;
  auto bundle = json::Parse(hr.body);
  ASSERT_TRUE(bundle.ok());
  ASSERT_NE(bundle->find("entry"), nullptr) << hr.body;
  ASSERT_EQ(bundle->find("entry")->items().size(), 1u) << hr.body;
  const json::Value& obs = *bundle->find("entry")->items()[0].find("resource");
  const std::string source(obs.find("meta")->get_string("source"));
  EXPECT_EQ(source.rfind(east_node->base() + "/Observation/rd", 0), 0u) << source;
  EXPECT_NE(source.find("/_history/1"), std::string::npos) << source;
  EXPECT_EQ(obs.find("subject")->get_string("reference"), "Patient/east-pa");
  east_node.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace medhub::synctest
