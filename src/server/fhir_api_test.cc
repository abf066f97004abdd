// Tests of the FHIR REST API, driven in-process through FhirApi::Handle() against a real
// RocksDB store in a fresh temporary directory per test.
#include "server/fhir_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/json.h"
#include "fhir/resource.h"
#include "server/http_server.h"
#include "store/store.h"

namespace medhub::server {
namespace {

namespace fs = std::filesystem;

constexpr char kBase[] = "http://fhir.test/fhir";
constexpr char kFhirJsonType[] = "application/fhir+json; charset=utf-8";

using Headers = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------
// Requests and responses.

// Builds an HttpRequest from a target such as "/fhir/Patient?name=smith", parsed as the
// HTTP server parses it (HttpRequest::SetTarget). A body gets a FHIR JSON Content-Type
// unless `headers` names one. Header names must be lower case.
HttpRequest MakeRequest(std::string method, std::string target, std::string body = "",
                        Headers headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.SetTarget(target);
  bool has_content_type = false;
  for (const auto& [k, v] : headers) has_content_type |= k == "content-type";
  if (!body.empty() && !has_content_type)
    headers.emplace_back("content-type", "application/fhir+json");
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1:40000";
  return r;
}

// The value of a response header (names compared case-insensitively), or "".
std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
  };
  for (const auto& [k, v] : r.headers)
    if (lower(k) == lower(name)) return v;
  return "";
}

// Parses a response body; a parse failure is a test failure and gives null.
json::Value Body(const HttpResponse& r) {
  auto v = json::Parse(r.body);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\nbody: " << r.body.substr(0, 500);
  return v.ok() ? std::move(v).value() : json::Value();
}

// Follows a dotted path through objects and arrays ("entry.0.resource.id").
const json::Value* At(const json::Value& v, std::string_view path) {
  const json::Value* cur = &v;
  while (cur != nullptr && !path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view seg = path.substr(0, dot);
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (cur->is_array()) {
      size_t i = 0;
      for (char c : seg) {
        if (c < '0' || c > '9') return nullptr;
        i = i * 10 + static_cast<size_t>(c - '0');
      }
      cur = i < cur->items().size() ? &cur->items()[i] : nullptr;
    } else if (cur->is_object()) {
      cur = cur->find(seg);
    } else {
      return nullptr;
    }
  }
  return cur;
}

// The text of the string or number at `path`, or "<missing>".
std::string Text(const json::Value& v, std::string_view path) {
  const json::Value* x = At(v, path);
  if (x == nullptr || !(x->is_string() || x->is_number())) return "<missing>";
  return x->text();
}

// Bundle.total, or -1 when absent.
int64_t Total(const json::Value& bundle) {
  const json::Value* t = bundle.find("total");
  return t && t->as_int() ? *t->as_int() : -1;
}

size_t EntryCount(const json::Value& bundle) {
  const json::Value* e = bundle.find("entry");
  return e ? e->items().size() : 0;
}

// The url of the Bundle link with `relation`, or "".
std::string LinkUrl(const json::Value& bundle, std::string_view relation) {
  if (const json::Value* links = bundle.find("link"))
    for (const auto& l : links->items())
      if (l.get_string("relation") == relation) return std::string(l.get_string("url"));
  return "";
}

// The ids of the entries whose search.mode is `mode` ("" for any), in bundle order.
std::vector<std::string> EntryIds(const json::Value& bundle, std::string_view mode = "") {
  std::vector<std::string> out;
  if (const json::Value* e = bundle.find("entry"))
    for (const auto& item : e->items())
      if (mode.empty() || Text(item, "search.mode") == mode)
        out.push_back(Text(item, "resource.id"));
  return out;
}

// The values as a multiset, for comparisons that ignore order.
std::multiset<std::string> Set(std::vector<std::string> v) { return {v.begin(), v.end()}; }

// The first OperationOutcome issue's diagnostics, or "<missing>".
std::string Diagnostics(const json::Value& oo) { return Text(oo, "issue.0.diagnostics"); }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------
// Resources.

std::string PatientJson(std::string_view family, std::string_view id = "",
                        std::string_view extra = "") {
  std::string s = R"({"resourceType":"Patient")";
  if (!id.empty()) s += R"(,"id":")" + std::string(id) + "\"";
  s += R"(,"name":[{"family":")" + std::string(family) + R"(","given":["Ann"]}])";
  s += R"(,"gender":"female","birthDate":"1970-02-03")";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}

std::string ObservationJson(std::string_view patient_ref, std::string_view code,
                            std::string_view date, std::string_view value, std::string_view unit) {
  return R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         std::string(code) + R"("}]},"subject":{"reference":")" + std::string(patient_ref) +
         R"("},"effectiveDateTime":")" + std::string(date) + R"(","valueQuantity":{"value":)" +
         std::string(value) + R"(,"unit":")" + std::string(unit) +
         R"(","system":"http://unitsofmeasure.org","code":")" + std::string(unit) + R"("}})";
}

// ---------------------------------------------------------------------------------------
// The fixture: a store in a fresh temporary directory and an API on top of it.

class FhirApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "medhub_fhir_api_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::StoreOptions options;
    options.path = dir_.string();
    auto store = store::OpenRocksStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    FhirApiOptions api_options;
    api_options.base_url = kBase;
    api_ = std::make_unique<FhirApi>(store_.get(), api_options);
  }

  void TearDown() override {
    api_.reset();
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    Headers headers = {}) {
    return api_->Handle(
        MakeRequest(std::move(method), std::move(target), std::move(body), std::move(headers)));
  }
  HttpResponse Get(std::string target, Headers headers = {}) {
    return Call("GET", std::move(target), "", std::move(headers));
  }

  // Creates a resource and returns its id (empty on failure, which also fails the test).
  std::string Create(std::string_view type, std::string body, Headers headers = {}) {
    HttpResponse r =
        Call("POST", "/fhir/" + std::string(type), std::move(body), std::move(headers));
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "";
    return Text(Body(r), "id");
  }

  // A search bundle; its status must be 200.
  json::Value Search(std::string target) {
    HttpResponse r = Get(std::move(target));
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }

  // The total of a search.
  int64_t SearchTotal(std::string target) { return Total(Search(std::move(target))); }

  // The total of the system-wide history.
  int64_t SystemHistoryTotal() { return Total(Search("/fhir/_history")); }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FhirApi> api_;
};

// ---------------------------------------------------------------------------------------
// metadata

TEST_F(FhirApiTest,
       MetadataReturnsACapabilityStatementForFhir401ListingPatientSearchAndEverything) {
  HttpResponse r = Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value cs = Body(r);
  EXPECT_EQ(Text(cs, "resourceType"), "CapabilityStatement");
  EXPECT_EQ(Text(cs, "fhirVersion"), "4.0.1");
  EXPECT_EQ(Text(cs, "implementation.url"), kBase);
  const json::Value* resources = At(cs, "rest.0.resource");
  ASSERT_NE(resources, nullptr);
  const json::Value* patient = nullptr;
  for (const auto& res : resources->items())
    if (res.get_string("type") == "Patient") patient = &res;
  ASSERT_NE(patient, nullptr);
  std::set<std::string> params;
  for (const auto& p : patient->find("searchParam")->items())
    params.insert(std::string(p.get_string("name")));
  EXPECT_TRUE(params.contains("family"));
  EXPECT_TRUE(params.contains("birthdate"));
  EXPECT_TRUE(params.contains("_id"));
  EXPECT_EQ(Text(*patient, "operation.0.name"), "everything");
  std::set<std::string> revincludes;
  for (const auto& p : patient->find("searchRevInclude")->items()) revincludes.insert(p.text());
  EXPECT_TRUE(revincludes.contains("Observation:patient"));
}

TEST_F(FhirApiTest, MetadataOfEverySeparatelyConstructedApiNamesItsOwnBaseUrl) {
  ASSERT_EQ(Get("/fhir/metadata").status, 200);
  FhirApiOptions other_options;
  other_options.base_url = "https://other.example/fhir";
  FhirApi other(store_.get(), other_options);
  HttpResponse r = other.Handle(MakeRequest("GET", "/fhir/metadata"));
  ASSERT_EQ(r.status, 200);
  json::Value cs = Body(r);
  EXPECT_EQ(Text(cs, "resourceType"), "CapabilityStatement");
  EXPECT_EQ(Text(cs, "implementation.url"), "https://other.example/fhir");
}

TEST_F(FhirApiTest, MetadataRejectsPostWith405) {
  HttpResponse r = Call("POST", "/fhir/metadata", PatientJson("X"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
}

// ---------------------------------------------------------------------------------------
// create

TEST_F(FhirApiTest, CreateAssignsAServerIdAndReturns201WithLocationETagAndVersion1) {
  HttpResponse r = Call("POST", "/fhir/Patient", PatientJson("Smith", "client-chosen"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value p = Body(r);
  const std::string id = Text(p, "id");
  EXPECT_NE(id, "client-chosen");
  EXPECT_EQ(id.size(), 36u);  // a UUID
  EXPECT_EQ(Text(p, "meta.versionId"), "1");
  EXPECT_NE(Text(p, "meta.lastUpdated"), "<missing>");
  EXPECT_EQ(Text(p, "name.0.family"), "Smith");
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  EXPECT_EQ(HeaderOf(r, "Location"), std::string(kBase) + "/Patient/" + id + "/_history/1");
  EXPECT_FALSE(HeaderOf(r, "Last-Modified").empty());
  // The client's id was not used.
  EXPECT_EQ(Get("/fhir/Patient/client-chosen").status, 404);
  EXPECT_EQ(Get("/fhir/Patient/" + id).status, 200);
}

TEST_F(FhirApiTest, CreateWithPreferReturnMinimalSendsAnEmptyBodyButStillTheHeaders) {
  HttpResponse r =
      Call("POST", "/fhir/Patient", PatientJson("Minimal"), {{"prefer", "return=minimal"}});
  ASSERT_EQ(r.status, 201);
  EXPECT_TRUE(r.body.empty()) << r.body;
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  const std::string location = HeaderOf(r, "Location");
  ASSERT_TRUE(location.starts_with(std::string(kBase) + "/Patient/")) << location;
  EXPECT_EQ(SearchTotal("/fhir/Patient?family=minimal"), 1);
}

TEST_F(FhirApiTest, CreateRejectsABodyWhoseTypeDiffersFromTheUrlWith400) {
  HttpResponse r = Call("POST", "/fhir/Observation", PatientJson("Wrong"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
}

// ---------------------------------------------------------------------------------------
// read

TEST_F(FhirApiTest, ReadReturnsTheStoredResourceWithETagAndLastModified) {
  const std::string id = Create("Patient", PatientJson("Reader"));
  HttpResponse r = Get("/fhir/Patient/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  EXPECT_TRUE(HeaderOf(r, "Last-Modified").ends_with(" GMT"));
  json::Value p = Body(r);
  EXPECT_EQ(Text(p, "resourceType"), "Patient");
  EXPECT_EQ(Text(p, "id"), id);
  EXPECT_EQ(Text(p, "name.0.family"), "Reader");
  EXPECT_EQ(Text(p, "birthDate"), "1970-02-03");
}

TEST_F(FhirApiTest, ReadOfAnUnknownIdReturns404WithAnOperationOutcome) {
  HttpResponse r = Get("/fhir/Patient/does-not-exist");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.severity"), "error");
  EXPECT_EQ(Text(oo, "issue.0.code"), "not-found");
}

TEST_F(FhirApiTest, ReadOfAnUnknownResourceTypeReturns404) {
  HttpResponse r = Get("/fhir/Spaceship/1");
  EXPECT_EQ(r.status, 404);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_NE(Diagnostics(oo).find("Spaceship"), std::string::npos) << Diagnostics(oo);
}

TEST_F(FhirApiTest, ReadWithAnInvalidIdReturns400) {
  HttpResponse r = Get("/fhir/Patient/bad_id!");
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.code"), "invalid");
}

TEST_F(FhirApiTest, PathsOutsideFhirOrUnknownEndpointsReturn404) {
  EXPECT_EQ(Get("/other/Patient").status, 404);
  EXPECT_EQ(Get("/fhirPatient").status, 404);
  const std::string id = Create("Patient", PatientJson("Paths"));
  EXPECT_EQ(Get("/fhir/Patient/" + id + "/nothing").status, 404);
}

// ---------------------------------------------------------------------------------------
// update

TEST_F(FhirApiTest, UpdateWithAMatchingIfMatchMakesVersion2) {
  const std::string id = Create("Patient", PatientJson("Before"));
  HttpResponse r =
      Call("PUT", "/fhir/Patient/" + id, PatientJson("After", id), {{"if-match", "W/\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"2\"");
  EXPECT_EQ(HeaderOf(r, "Location"), "");
  json::Value p = Body(r);
  EXPECT_EQ(Text(p, "meta.versionId"), "2");
  EXPECT_EQ(Text(p, "name.0.family"), "After");
  HttpResponse read = Get("/fhir/Patient/" + id);
  EXPECT_EQ(HeaderOf(read, "ETag"), "W/\"2\"");
  EXPECT_EQ(Text(Body(read), "name.0.family"), "After");
}

TEST_F(FhirApiTest, UpdateWithAStaleIfMatchReturns412AndLeavesTheResourceAlone) {
  const std::string id = Create("Patient", PatientJson("V1"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("V2", id)).status, 200);
  HttpResponse r =
      Call("PUT", "/fhir/Patient/" + id, PatientJson("V3", id), {{"if-match", "W/\"1\""}});
  EXPECT_EQ(r.status, 412);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.code"), "conflict");
  HttpResponse read = Get("/fhir/Patient/" + id);
  EXPECT_EQ(HeaderOf(read, "ETag"), "W/\"2\"");
  EXPECT_EQ(Text(Body(read), "name.0.family"), "V2");
}

TEST_F(FhirApiTest, UpdateWithAMalformedIfMatchReturns400) {
  const std::string id = Create("Patient", PatientJson("Etag"));
  HttpResponse r =
      Call("PUT", "/fhir/Patient/" + id, PatientJson("Etag2", id), {{"if-match", "version one"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOf(Get("/fhir/Patient/" + id), "ETag"), "W/\"1\"");
}

TEST_F(FhirApiTest, UpdateOfANewIdCreatesTheResourceWith201AndLocation) {
  HttpResponse r =
      Call("PUT", "/fhir/Patient/chosen-by-client", PatientJson("New", "chosen-by-client"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  EXPECT_EQ(HeaderOf(r, "Location"), std::string(kBase) + "/Patient/chosen-by-client/_history/1");
  EXPECT_EQ(Text(Body(r), "meta.versionId"), "1");
  HttpResponse read = Get("/fhir/Patient/chosen-by-client");
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(Text(Body(read), "name.0.family"), "New");
}

TEST_F(FhirApiTest, UpdateWhoseBodyIdDiffersFromTheUrlReturns400) {
  const std::string id = Create("Patient", PatientJson("Ids"));
  HttpResponse r = Call("PUT", "/fhir/Patient/" + id, PatientJson("Ids", "another-id"));
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "issue.0.expression.0"), "Patient.id");
  // A body without an id is no better.
  EXPECT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("Ids")).status, 400);
  EXPECT_EQ(Get("/fhir/Patient/another-id").status, 404);
  EXPECT_EQ(HeaderOf(Get("/fhir/Patient/" + id), "ETag"), "W/\"1\"");
}

TEST_F(FhirApiTest, UpdateWhoseBodyTypeDiffersFromTheUrlReturns400) {
  const std::string id = Create("Patient", PatientJson("Types"));
  HttpResponse r = Call("PUT", "/fhir/Observation/" + id, PatientJson("Types", id));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
  EXPECT_EQ(Get("/fhir/Observation/" + id).status, 404);
}

TEST_F(FhirApiTest, UpdateWithIdenticalContentReturns200AndKeepsTheVersion) {
  const std::string id = Create("Patient", PatientJson("Same"));
  const int64_t history_before = SystemHistoryTotal();
  HttpResponse r = Call("PUT", "/fhir/Patient/" + id, PatientJson("Same", id));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  EXPECT_EQ(Text(Body(r), "meta.versionId"), "1");
  EXPECT_EQ(SystemHistoryTotal(), history_before);
  EXPECT_EQ(Total(Search("/fhir/Patient/" + id + "/_history")), 1);
}

// ---------------------------------------------------------------------------------------
// vread

TEST_F(FhirApiTest, VReadReturnsVersion1AfterAnUpdate) {
  const std::string id = Create("Patient", PatientJson("First"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("Second", id)).status, 200);
  HttpResponse v1 = Get("/fhir/Patient/" + id + "/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(HeaderOf(v1, "ETag"), "W/\"1\"");
  json::Value p1 = Body(v1);
  EXPECT_EQ(Text(p1, "name.0.family"), "First");
  EXPECT_EQ(Text(p1, "meta.versionId"), "1");
  HttpResponse v2 = Get("/fhir/Patient/" + id + "/_history/2");
  ASSERT_EQ(v2.status, 200);
  EXPECT_EQ(Text(Body(v2), "name.0.family"), "Second");
}

TEST_F(FhirApiTest, VReadOfAMissingOrMalformedVersionReturns404) {
  const std::string id = Create("Patient", PatientJson("Versions"));
  for (const char* vid : {"2", "0", "abc", "1x", "99999999999999999999999"}) {
    HttpResponse r = Get("/fhir/Patient/" + id + "/_history/" + vid);
    EXPECT_EQ(r.status, 404) << vid;
    EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome") << vid;
  }
  EXPECT_EQ(Get("/fhir/Patient/unknown-id/_history/1").status, 404);
}

// ---------------------------------------------------------------------------------------
// delete

TEST_F(FhirApiTest, DeleteReturns204ThenReadsAreGoneAndHistoryShowsTheDeletion) {
  const std::string id = Create("Patient", PatientJson("Doomed"));
  HttpResponse del = Call("DELETE", "/fhir/Patient/" + id);
  ASSERT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(HeaderOf(del, "ETag"), "W/\"2\"");

  HttpResponse read = Get("/fhir/Patient/" + id);
  EXPECT_EQ(read.status, 410);
  EXPECT_EQ(Text(Body(read), "issue.0.code"), "deleted");
  EXPECT_EQ(Get("/fhir/Patient/" + id + "/_history/2").status, 410);
  EXPECT_EQ(Get("/fhir/Patient/" + id + "/_history/1").status, 200);
  EXPECT_EQ(SearchTotal("/fhir/Patient?family=doomed"), 0);

  json::Value history = Search("/fhir/Patient/" + id + "/_history");
  EXPECT_EQ(Text(history, "type"), "history");
  EXPECT_EQ(Total(history), 2);
  ASSERT_EQ(EntryCount(history), 2u);
  EXPECT_EQ(Text(history, "entry.0.request.method"), "DELETE");
  EXPECT_EQ(Text(history, "entry.0.request.url"), "Patient/" + id);
  EXPECT_EQ(Text(history, "entry.0.response.status"), "204 No Content");
  EXPECT_EQ(At(history, "entry.0.resource"), nullptr);
  EXPECT_EQ(Text(history, "entry.1.request.method"), "POST");
}

TEST_F(FhirApiTest, DeleteOfAnUnknownResourceReturns204WithoutETag) {
  HttpResponse r = Call("DELETE", "/fhir/Patient/never-existed");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(HeaderOf(r, "ETag"), "");
  EXPECT_EQ(SystemHistoryTotal(), 0);
}

// ---------------------------------------------------------------------------------------
// history

TEST_F(FhirApiTest, InstanceHistoryListsEveryVersionNewestFirst) {
  const std::string id = Create("Patient", PatientJson("H1"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("H2", id)).status, 200);
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("H3", id)).status, 200);
  Create("Patient", PatientJson("Other"));

  HttpResponse r = Get("/fhir/Patient/" + id + "/_history");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "resourceType"), "Bundle");
  EXPECT_EQ(Text(b, "type"), "history");
  EXPECT_EQ(Total(b), 3);
  ASSERT_EQ(EntryCount(b), 3u);
  EXPECT_EQ(Text(b, "entry.0.resource.meta.versionId"), "3");
  EXPECT_EQ(Text(b, "entry.0.resource.name.0.family"), "H3");
  EXPECT_EQ(Text(b, "entry.0.request.method"), "PUT");
  EXPECT_EQ(Text(b, "entry.0.response.etag"), "W/\"3\"");
  EXPECT_EQ(Text(b, "entry.1.resource.meta.versionId"), "2");
  EXPECT_EQ(Text(b, "entry.2.resource.meta.versionId"), "1");
  EXPECT_EQ(Text(b, "entry.2.request.method"), "POST");
  EXPECT_EQ(Text(b, "entry.2.response.status"), "201 Created");
  EXPECT_EQ(Text(b, "entry.0.fullUrl"), std::string(kBase) + "/Patient/" + id);
  EXPECT_EQ(Get("/fhir/Patient/unknown/_history").status, 404);
}

TEST_F(FhirApiTest, TypeAndSystemHistoryCountEveryVersionOfTheirScope) {
  const std::string a = Create("Patient", PatientJson("A"));
  Create("Patient", PatientJson("B"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + a, PatientJson("A2", a)).status, 200);
  Create("Observation", ObservationJson("Patient/" + a, "29463-7", "2020-01-01", "70", "kg"));

  json::Value type = Search("/fhir/Patient/_history");
  EXPECT_EQ(Text(type, "type"), "history");
  EXPECT_EQ(Total(type), 3);
  ASSERT_EQ(EntryCount(type), 3u);
  EXPECT_EQ(Text(type, "entry.0.resource.name.0.family"), "A2");  // newest first
  EXPECT_EQ(Text(type, "entry.2.resource.name.0.family"), "A");

  json::Value system = Search("/fhir/_history");
  EXPECT_EQ(Text(system, "type"), "history");
  EXPECT_EQ(Total(system), 4);
  ASSERT_EQ(EntryCount(system), 4u);
  EXPECT_EQ(Text(system, "entry.0.resource.resourceType"), "Observation");
  EXPECT_EQ(Text(system, "entry.3.resource.name.0.family"), "A");
}

TEST_F(FhirApiTest, HistorySinceLeavesOutOlderVersions) {
  const std::string id = Create("Patient", PatientJson("S1"));
  HttpResponse v2 = Call("PUT", "/fhir/Patient/" + id, PatientJson("S2", id));
  ASSERT_EQ(v2.status, 200);
  const std::string since = Text(Body(v2), "meta.lastUpdated");
  ASSERT_NE(since, "<missing>");
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("S3", id)).status, 200);

  json::Value b = Search("/fhir/Patient/" + id + "/_history?_since=" + since);
  EXPECT_EQ(Total(b), 2);
  ASSERT_EQ(EntryCount(b), 2u);
  EXPECT_EQ(Text(b, "entry.0.resource.meta.versionId"), "3");
  EXPECT_EQ(Text(b, "entry.1.resource.meta.versionId"), "2");
  EXPECT_EQ(Total(Search("/fhir/_history?_since=" + since)), 2);
  EXPECT_EQ(Total(Search("/fhir/_history?_since=2999-01-01T00:00:00Z")), 0);
  EXPECT_EQ(Total(Search("/fhir/_history?_since=2000-01-01T00:00:00Z")), 3);
}

TEST_F(FhirApiTest, HistoryCountPagesAndLinksTheNextPage) {
  const std::string id = Create("Patient", PatientJson("P1"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("P2", id)).status, 200);
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("P3", id)).status, 200);

  json::Value page1 = Search("/fhir/Patient/" + id + "/_history?_count=2");
  EXPECT_EQ(Total(page1), 3);
  ASSERT_EQ(EntryCount(page1), 2u);
  EXPECT_EQ(Text(page1, "entry.0.resource.meta.versionId"), "3");
  EXPECT_EQ(Text(page1, "entry.1.resource.meta.versionId"), "2");
  const std::string next = LinkUrl(page1, "next");
  ASSERT_TRUE(next.starts_with(std::string(kBase) + "/Patient/" + id + "/_history?")) << next;
  EXPECT_NE(next.find("_offset=2"), std::string::npos) << next;

  json::Value page2 = Search("/fhir" + next.substr(std::string(kBase).size()));
  EXPECT_EQ(Total(page2), 3);
  ASSERT_EQ(EntryCount(page2), 1u);
  EXPECT_EQ(Text(page2, "entry.0.resource.meta.versionId"), "1");
  EXPECT_EQ(LinkUrl(page2, "next"), "");
  EXPECT_NE(LinkUrl(page2, "previous"), "");
}

TEST_F(FhirApiTest, SystemHistoryPagesFollowACursorSoWritesBetweenPagesNeitherRepeatNorSkip) {
  for (int i = 0; i < 5; ++i) Create("Patient", PatientJson("C" + std::to_string(i)));
  json::Value page1 = Search("/fhir/_history?_count=2");
  EXPECT_EQ(Total(page1), 5);
  ASSERT_EQ(EntryCount(page1), 2u);
  std::string next = LinkUrl(page1, "next");
  EXPECT_NE(next.find("_cursor="), std::string::npos) << next;
  // Writes between pages would shift offset-based pages; the cursor is unaffected.
  Create("Patient", PatientJson("late1"));
  Create("Patient", PatientJson("late2"));
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) seen.insert(Text(page1, "entry." + std::to_string(i) + ".fullUrl"));
  size_t pages = 1;
  while (!next.empty()) {
    json::Value page = Search("/fhir" + next.substr(std::string(kBase).size()));
    for (size_t i = 0; i < EntryCount(page); ++i)
      EXPECT_TRUE(seen.insert(Text(page, "entry." + std::to_string(i) + ".fullUrl")).second);
    next = LinkUrl(page, "next");
    ++pages;
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(Get("/fhir/_history?_cursor=abc").status, 400);
}

TEST_F(FhirApiTest, HistoryWithCountZeroReturnsOnlyTheTotalAndNoNextLink) {
  const std::string id = Create("Patient", PatientJson("Z1"));
  ASSERT_EQ(Call("PUT", "/fhir/Patient/" + id, PatientJson("Z2", id)).status, 200);
  json::Value b = Search("/fhir/_history?_count=0");
  EXPECT_EQ(Total(b), 2);
  EXPECT_EQ(EntryCount(b), 0u);
  EXPECT_EQ(LinkUrl(b, "next"), "");
}

TEST_F(FhirApiTest, HistoryWithAMalformedSinceOrUnknownParameterReturns400) {
  Create("Patient", PatientJson("Bad"));
  for (const char* target : {"/fhir/_history?_since=yesterday", "/fhir/_history?_since=2020-01-01",
                             "/fhir/Patient/_history?_count=-1", "/fhir/_history?family=x"}) {
    HttpResponse r = Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome") << target;
  }
}

// ---------------------------------------------------------------------------------------
// search

// Two patients; four observations of the first, one of the second:
//   o1 weight 70 kg 2020-01-01, o2 weight 80 kg 2020-06-01, o3 weight 90 kg 2021-01-01,
//   o4 height 170 cm 2022-01-01; o5 (other patient) weight 60 kg 2020-03-01.
class FhirApiSearchTest : public FhirApiTest {
 protected:
  void SetUp() override {
    FhirApiTest::SetUp();
    if (HasFatalFailure()) return;
    p1_ = Create("Patient", PatientJson("Searchable"));
    p2_ = Create("Patient", PatientJson("Bystander"));
    o1_ = Create("Observation",
                 ObservationJson("Patient/" + p1_, "29463-7", "2020-01-01", "70", "kg"));
    o2_ = Create("Observation",
                 ObservationJson("Patient/" + p1_, "29463-7", "2020-06-01", "80", "kg"));
    o3_ = Create("Observation",
                 ObservationJson("Patient/" + p1_, "29463-7", "2021-01-01", "90", "kg"));
    o4_ = Create("Observation",
                 ObservationJson("Patient/" + p1_, "8302-2", "2022-01-01", "170", "cm"));
    o5_ = Create("Observation",
                 ObservationJson("Patient/" + p2_, "29463-7", "2020-03-01", "60", "kg"));
  }

  std::string p1_, p2_, o1_, o2_, o3_, o4_, o5_;
};

TEST_F(FhirApiSearchTest, SearchFindsTheObservationsOfOnePatient) {
  json::Value b = Search("/fhir/Observation?patient=" + p1_);
  EXPECT_EQ(Text(b, "resourceType"), "Bundle");
  EXPECT_EQ(Text(b, "type"), "searchset");
  EXPECT_EQ(Total(b), 4);
  EXPECT_EQ(Set(EntryIds(b, "match")), Set({o1_, o2_, o3_, o4_}));
  EXPECT_EQ(Text(b, "entry.0.fullUrl"),
            std::string(kBase) + "/Observation/" + Text(b, "entry.0.resource.id"));
  EXPECT_EQ(Total(Search("/fhir/Observation?patient=Patient/" + p2_)), 1);
  EXPECT_EQ(Total(Search("/fhir/Observation?subject=Patient/" + p2_)), 1);
  EXPECT_EQ(Total(Search("/fhir/Observation")), 5);
}

TEST_F(FhirApiSearchTest, SearchMatchesATokenBySystemAndCode) {
  json::Value b = Search("/fhir/Observation?code=http://loinc.org%7C29463-7");
  EXPECT_EQ(Total(b), 4);
  EXPECT_EQ(Set(EntryIds(b)), Set({o1_, o2_, o3_, o5_}));
  EXPECT_EQ(Total(Search("/fhir/Observation?code=http://loinc.org|8302-2")), 1);
  EXPECT_EQ(Total(Search("/fhir/Observation?code=8302-2")), 1);
  EXPECT_EQ(Total(Search("/fhir/Observation?code=http://snomed.info/sct|29463-7")), 0);
  EXPECT_EQ(Total(Search("/fhir/Observation?patient=" + p1_ + "&code=http://loinc.org|29463-7")),
            3);
}

TEST_F(FhirApiSearchTest, SearchFiltersByADateRangeWithGeAndLt) {
  json::Value b = Search("/fhir/Observation?date=ge2020-06-01&date=lt2021-06-01");
  EXPECT_EQ(Total(b), 2);
  EXPECT_EQ(Set(EntryIds(b)), Set({o2_, o3_}));
  EXPECT_EQ(Total(Search("/fhir/Observation?date=2020")), 3);
  EXPECT_EQ(Total(Search("/fhir/Observation?date=lt2020-01-01")), 0);
  HttpResponse bad = Get("/fhir/Observation?date=ge2020-13-45");
  EXPECT_EQ(bad.status, 400);
}

TEST_F(FhirApiSearchTest, SearchComparesQuantitiesWithPrefixesAndUnits) {
  json::Value gt = Search("/fhir/Observation?value-quantity=gt85");
  EXPECT_EQ(Set(EntryIds(gt)), Set({o3_, o4_}));
  json::Value kg = Search("/fhir/Observation?value-quantity=ge80|http://unitsofmeasure.org|kg");
  EXPECT_EQ(Set(EntryIds(kg)), Set({o2_, o3_}));
  EXPECT_EQ(Total(Search("/fhir/Observation?value-quantity=70")), 1);
  EXPECT_EQ(Total(Search("/fhir/Observation?value-quantity=lt100||cm")), 0);
}

TEST_F(FhirApiSearchTest, SearchPagesWithCountReportingTheTotalAndANextLinkWithOffset) {
  json::Value page1 = Search("/fhir/Observation?patient=" + p1_ + "&_count=3");
  EXPECT_EQ(Total(page1), 4);
  ASSERT_EQ(EntryCount(page1), 3u);
  const std::string next = LinkUrl(page1, "next");
  ASSERT_TRUE(next.starts_with(std::string(kBase) + "/Observation?")) << next;
  EXPECT_NE(next.find("_offset=3"), std::string::npos) << next;
  EXPECT_NE(next.find("_count=3"), std::string::npos) << next;
  EXPECT_NE(next.find("patient=" + p1_), std::string::npos) << next;
  EXPECT_EQ(LinkUrl(page1, "previous"), "");

  json::Value page2 = Search("/fhir" + next.substr(std::string(kBase).size()));
  EXPECT_EQ(Total(page2), 4);
  ASSERT_EQ(EntryCount(page2), 1u);
  EXPECT_EQ(LinkUrl(page2, "next"), "");
  EXPECT_NE(LinkUrl(page2, "previous"), "");

  std::vector<std::string> all = EntryIds(page1);
  for (auto& id : EntryIds(page2)) all.push_back(id);
  EXPECT_EQ(Set(all), Set({o1_, o2_, o3_, o4_}));
}

TEST_F(FhirApiSearchTest, SearchWithCountZeroReturnsOnlyTheTotalAndNoNextLink) {
  json::Value b = Search("/fhir/Observation?patient=" + p1_ + "&_count=0");
  EXPECT_EQ(Total(b), 4);
  EXPECT_EQ(EntryCount(b), 0u);
  // A next link would point at the same empty page again: a client following it loops.
  EXPECT_EQ(LinkUrl(b, "next"), "");
  EXPECT_NE(LinkUrl(b, "self"), "");
}

TEST_F(FhirApiSearchTest, SearchSortsByDateDescending) {
  json::Value b = Search("/fhir/Observation?patient=" + p1_ + "&_sort=-date");
  EXPECT_EQ(EntryIds(b), (std::vector<std::string>{o4_, o3_, o2_, o1_}));
  json::Value asc = Search("/fhir/Observation?patient=" + p1_ + "&_sort=date");
  EXPECT_EQ(EntryIds(asc), (std::vector<std::string>{o1_, o2_, o3_, o4_}));
  EXPECT_EQ(Get("/fhir/Observation?_sort=code").status, 400);
}

TEST_F(FhirApiSearchTest, SearchIncludeAddsTheReferencedPatientOnceAsAnInclude) {
  json::Value b = Search("/fhir/Observation?patient=" + p1_ + "&_include=Observation:patient");
  EXPECT_EQ(Total(b), 4);  // includes do not count
  EXPECT_EQ(Set(EntryIds(b, "match")), Set({o1_, o2_, o3_, o4_}));
  EXPECT_EQ(EntryIds(b, "include"), std::vector<std::string>{p1_});
  ASSERT_EQ(EntryCount(b), 5u);
  EXPECT_EQ(Text(b, "entry.4.resource.resourceType"), "Patient");
  EXPECT_EQ(Text(b, "entry.4.fullUrl"), std::string(kBase) + "/Patient/" + p1_);
}

TEST_F(FhirApiSearchTest, SearchRevIncludeAddsTheObservationsOfAPatient) {
  json::Value b = Search("/fhir/Patient?_id=" + p1_ + "&_revinclude=Observation:patient");
  EXPECT_EQ(Total(b), 1);
  EXPECT_EQ(EntryIds(b, "match"), std::vector<std::string>{p1_});
  EXPECT_EQ(Set(EntryIds(b, "include")), Set({o1_, o2_, o3_, o4_}));
  for (size_t i = 1; i < EntryCount(b); ++i)
    EXPECT_EQ(Text(b, "entry." + std::to_string(i) + ".resource.resourceType"), "Observation");
}

TEST_F(FhirApiSearchTest, SearchSummaryCountReturnsTheTotalWithoutEntries) {
  json::Value b = Search("/fhir/Observation?patient=" + p1_ + "&_summary=count");
  EXPECT_EQ(Text(b, "type"), "searchset");
  EXPECT_EQ(Total(b), 4);
  EXPECT_EQ(EntryCount(b), 0u);
  EXPECT_EQ(b.find("entry"), nullptr);
}

TEST_F(FhirApiSearchTest, SearchWithAnUnknownParameterReturns400WithAnOperationOutcome) {
  HttpResponse r = Get("/fhir/Observation?colour=blue");
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.code"), "invalid");
  EXPECT_NE(Diagnostics(oo).find("colour"), std::string::npos) << Diagnostics(oo);
  EXPECT_EQ(Get("/fhir/Patient?family:fuzzy=x").status, 400);
  EXPECT_EQ(Get("/fhir/Observation?_include=Observation:code").status, 400);
}

TEST_F(FhirApiSearchTest, PostSearchWithAFormBodyMatchesLikeGet) {
  HttpResponse r = Call("POST", "/fhir/Observation/_search",
                        "patient=" + p1_ + "&code=http%3A%2F%2Floinc.org%7C29463-7",
                        {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "type"), "searchset");
  EXPECT_EQ(Total(b), 3);
  EXPECT_EQ(Set(EntryIds(b)), Set({o1_, o2_, o3_}));
  // Query parameters and the form body are combined.
  HttpResponse both = Call("POST", "/fhir/Observation/_search?date=ge2021-01-01", "patient=" + p1_,
                           {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(Set(EntryIds(Body(both))), Set({o3_, o4_}));
  EXPECT_EQ(Get("/fhir/Observation/_search").status, 405);
}

TEST_F(FhirApiSearchTest, SearchByStringMatchesPrefixesCaseInsensitively) {
  EXPECT_EQ(Total(Search("/fhir/Patient?family=SEARCH")), 1);
  EXPECT_EQ(Total(Search("/fhir/Patient?name=ann")), 2);
  EXPECT_EQ(Total(Search("/fhir/Patient?family:exact=Searchable")), 1);
  EXPECT_EQ(Total(Search("/fhir/Patient?family:exact=searchable")), 0);
}

// ---------------------------------------------------------------------------------------
// conditional create

TEST_F(FhirApiTest, ConditionalCreateWithAnExistingMatchReturns200AndWritesNothing) {
  const std::string body =
      PatientJson("Cond", "", R"("identifier":[{"system":"urn:test:mrn","value":"42"}])");
  const std::string id = Create("Patient", body);
  const int64_t before = SystemHistoryTotal();
  HttpResponse r =
      Call("POST", "/fhir/Patient", body, {{"if-none-exist", "identifier=urn:test:mrn|42"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Text(Body(r), "id"), id);
  EXPECT_EQ(HeaderOf(r, "ETag"), "W/\"1\"");
  EXPECT_EQ(SystemHistoryTotal(), before);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 1);
}

TEST_F(FhirApiTest, ConditionalCreateWithoutAMatchCreates) {
  Create("Patient",
         PatientJson("Cond", "", R"("identifier":[{"system":"urn:test:mrn","value":"1"}])"));
  HttpResponse r =
      Call("POST", "/fhir/Patient",
           PatientJson("Cond", "", R"("identifier":[{"system":"urn:test:mrn","value":"2"}])"),
           {{"if-none-exist", "Patient?identifier=urn:test:mrn|2"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(HeaderOf(r, "Location").empty());
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 2);
  EXPECT_EQ(SearchTotal("/fhir/Patient?identifier=urn:test:mrn|2"), 1);
}

TEST_F(FhirApiTest, ConditionalCreateWithTwoMatchesReturns412) {
  const std::string body =
      PatientJson("Dup", "", R"("identifier":[{"system":"urn:test:mrn","value":"7"}])");
  Create("Patient", body);
  Create("Patient", body);
  HttpResponse r =
      Call("POST", "/fhir/Patient", body, {{"if-none-exist", "identifier=urn:test:mrn|7"}});
  EXPECT_EQ(r.status, 412);
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 2);
}

TEST_F(FhirApiTest, ConditionalCreateWithAnInvalidCriterionReturns400) {
  HttpResponse r =
      Call("POST", "/fhir/Patient", PatientJson("X"), {{"if-none-exist", "colour=blue"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Diagnostics(Body(r)).find("If-None-Exist"), std::string::npos);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
}

// ---------------------------------------------------------------------------------------
// transaction and batch

std::string PatientAndObservationTransaction(std::string_view observation_ref) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[)"
         R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000001","resource":)" +
         PatientJson("Tx", "ignored-id") +
         R"(,"request":{"method":"POST","url":"Patient"}},)"
         R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000002","resource":)" +
         ObservationJson(observation_ref, "29463-7", "2021-05-05", "75", "kg") +
         R"(,"request":{"method":"POST","url":"Observation"}}]})";
}

TEST_F(FhirApiTest, TransactionResolvesUrnUuidReferencesToTheAssignedIds) {
  HttpResponse r =
      Call("POST", "/fhir",
           PatientAndObservationTransaction("urn:uuid:6f1b1c1e-0000-4000-8000-000000000001"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "resourceType"), "Bundle");
  EXPECT_EQ(Text(b, "type"), "transaction-response");
  ASSERT_EQ(EntryCount(b), 2u);
  EXPECT_EQ(Text(b, "entry.0.response.status"), "201 Created");
  EXPECT_EQ(Text(b, "entry.1.response.status"), "201 Created");
  EXPECT_EQ(Text(b, "entry.0.response.etag"), "W/\"1\"");

  const std::string patient_location = Text(b, "entry.0.response.location");
  ASSERT_TRUE(patient_location.starts_with("Patient/")) << patient_location;
  ASSERT_TRUE(patient_location.ends_with("/_history/1")) << patient_location;
  const std::string patient_id = patient_location.substr(8, patient_location.size() - 8 - 11);
  EXPECT_NE(patient_id, "ignored-id");
  const std::string obs_location = Text(b, "entry.1.response.location");
  ASSERT_TRUE(obs_location.starts_with("Observation/")) << obs_location;
  const std::string obs_id = obs_location.substr(12, obs_location.size() - 12 - 11);
  EXPECT_EQ(Text(b, "entry.1.fullUrl"), std::string(kBase) + "/Observation/" + obs_id);

  HttpResponse obs = Get("/fhir/Observation/" + obs_id);
  ASSERT_EQ(obs.status, 200);
  EXPECT_EQ(Text(Body(obs), "subject.reference"), "Patient/" + patient_id);
  EXPECT_EQ(Get("/fhir/Patient/" + patient_id).status, 200);
  EXPECT_EQ(SearchTotal("/fhir/Observation?patient=" + patient_id), 1);
}

TEST_F(FhirApiTest, TransactionWithAReferenceToNoFullUrlWritesNothing) {
  HttpResponse r =
      Call("POST", "/fhir",
           PatientAndObservationTransaction("urn:uuid:6f1b1c1e-0000-4000-8000-0000000000ff"));
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.expression.0"), "Bundle.entry[1].resource");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
  EXPECT_EQ(SearchTotal("/fhir/Observation"), 0);
  EXPECT_EQ(SystemHistoryTotal(), 0);
}

TEST_F(FhirApiTest, TransactionWithAStaleIfMatchOnAPutWritesNothing) {
  const std::string id = Create("Patient", PatientJson("Existing"));
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000010","resource":)" +
      PatientJson("Fresh") +
      R"(,"request":{"method":"POST","url":"Patient"}},)"
      R"({"resource":)" +
      PatientJson("Changed", id) + R"(,"request":{"method":"PUT","url":"Patient/)" + id +
      R"(","ifMatch":"W/\"5\""}}]})";
  HttpResponse r = Call("POST", "/fhir", bundle);
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
  EXPECT_EQ(SearchTotal("/fhir/Patient?family=fresh"), 0);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 1);
  HttpResponse read = Get("/fhir/Patient/" + id);
  EXPECT_EQ(HeaderOf(read, "ETag"), "W/\"1\"");
  EXPECT_EQ(Text(Body(read), "name.0.family"), "Existing");
}

TEST_F(FhirApiTest, TransactionWithDuplicateFullUrlsReturns400) {
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000020","resource":)" +
      PatientJson("One") +
      R"(,"request":{"method":"POST","url":"Patient"}},)"
      R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000020","resource":)" +
      PatientJson("Two") + R"(,"request":{"method":"POST","url":"Patient"}}]})";
  HttpResponse r = Call("POST", "/fhir", bundle);
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "issue.0.expression.0"), "Bundle.entry[1].fullUrl");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
}

TEST_F(FhirApiTest, TransactionWithAConditionalCreateReusesTheExistingResource) {
  const std::string existing =
      Create("Patient",
             PatientJson("Known", "", R"("identifier":[{"system":"urn:test:mrn","value":"9"}])"));
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000030","resource":)" +
      PatientJson("Known", "", R"("identifier":[{"system":"urn:test:mrn","value":"9"}])") +
      R"(,"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:test:mrn|9"}},)"
      R"({"resource":)" +
      ObservationJson("urn:uuid:6f1b1c1e-0000-4000-8000-000000000030", "29463-7", "2021-01-01",
                      "60", "kg") +
      R"(,"request":{"method":"POST","url":"Observation"}}]})";
  HttpResponse r = Call("POST", "/fhir", bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "entry.0.response.status"), "200 OK");
  EXPECT_EQ(Text(b, "entry.0.response.location"), "Patient/" + existing + "/_history/1");
  EXPECT_EQ(Text(b, "entry.0.response.etag"), "W/\"1\"");
  EXPECT_EQ(Text(b, "entry.0.response.lastModified"),
            Text(Body(Get("/fhir/Patient/" + existing)), "meta.lastUpdated"));
  EXPECT_EQ(Text(b, "entry.1.response.status"), "201 Created");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 1);
  EXPECT_EQ(SearchTotal("/fhir/Observation?patient=" + existing), 1);
}

TEST_F(FhirApiTest, TransactionWithReplyIdsListsEachEntrysTypeAndIdAndBuildsNoResponseBundle) {
  const std::string existing =
      Create("Patient",
             PatientJson("Known", "", R"("identifier":[{"system":"urn:test:mrn","value":"7"}])"));
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"resource":)" +
      ObservationJson("urn:uuid:6f1b1c1e-0000-4000-8000-000000000031", "29463-7", "2021-01-01",
                      "60", "kg") +
      R"(,"request":{"method":"POST","url":"Observation"}},)"
      R"({"fullUrl":"urn:uuid:6f1b1c1e-0000-4000-8000-000000000031","resource":)" +
      PatientJson("Known", "", R"("identifier":[{"system":"urn:test:mrn","value":"7"}])") +
      R"(,"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:test:mrn|7"}},)"
      R"({"resource":)" +
      PatientJson("Other", "other-1") + R"(,"request":{"method":"PUT","url":"Patient/other-1"}}]})";
  auto with_ids = fhir::ParseResource(bundle);
  ASSERT_TRUE(with_ids.ok()) << with_ids.status().ToString();
  auto out =
      api_->ProcessBundle(std::move(with_ids).value(), /*keep_ids=*/false, BundleReply::kIds);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->entries, 3u);
  EXPECT_TRUE(out->response_bundle.empty());
  auto again = api_->ProcessBundle(fhir::ParseResource(bundle).value(), /*keep_ids=*/false,
                                   BundleReply::kNone);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->entries, 3u);
  EXPECT_TRUE(again->response_bundle.empty());
  EXPECT_TRUE(again->entry_ids.empty());
  // The Observation's id is the one the server assigned; its subject became the match.
  const std::string& ids = out->entry_ids;
  ASSERT_TRUE(ids.starts_with("Observation/")) << ids;
  const size_t nl = ids.find('\n');
  const std::string obs_id = ids.substr(12, nl - 12);
  EXPECT_EQ(ids.substr(nl + 1), "Patient/" + existing + "\nPatient/other-1\n");
  json::Value obs = Body(Get("/fhir/Observation/" + obs_id));
  EXPECT_EQ(Text(obs, "subject.reference"), "Patient/" + existing);
  EXPECT_EQ(SearchTotal("/fhir/Observation?patient=" + existing), 2);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 2);
}

TEST_F(FhirApiTest, ConcurrentConditionalCreatesOfOnePatientCreateItOnce) {
  // Four transactions and four plain POSTs race, round after round, to create the patient
  // of one identifier: the check and the write of each are one step, so each round ends
  // with exactly one such patient, whatever the interleaving.
  for (int round = 0; round < 10; ++round) {
    const std::string mrn = "race-" + std::to_string(round);
    const std::string patient = PatientJson(
        "Racer", "", R"("identifier":[{"system":"urn:test:mrn","value":")" + mrn + R"("}])");
    const std::string bundle =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + patient +
        R"(,"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:test:mrn|)" +
        mrn + R"("}}]})";
    std::vector<int> statuses(8, 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < statuses.size(); ++t) {
      threads.emplace_back([&, t] {
        statuses[t] = t % 2 == 0 ? Call("POST", "/fhir", bundle).status
                                 : Call("POST", "/fhir/Patient", patient,
                                        {{"if-none-exist", "identifier=urn:test:mrn|" + mrn}})
                                       .status;
      });
    }
    for (std::thread& t : threads) t.join();
    for (int status : statuses) EXPECT_TRUE(status == 200 || status == 201) << status;
    EXPECT_EQ(SearchTotal("/fhir/Patient?identifier=urn:test:mrn|" + mrn), 1) << mrn;
  }
}

TEST_F(FhirApiTest, PostToTheBaseRejectsAnythingButABatchOrTransactionBundle) {
  EXPECT_EQ(Call("POST", "/fhir", PatientJson("NotABundle")).status, 400);
  HttpResponse r = Call("POST", "/fhir", R"({"resourceType":"Bundle","type":"collection"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Text(Body(r), "issue.0.expression.0"), "Bundle.type");
  EXPECT_EQ(Get("/fhir").status, 405);
}

TEST_F(FhirApiTest, BatchReportsEachEntryIndependently) {
  const std::string bundle = R"({"resourceType":"Bundle","type":"batch","entry":[)"
                             R"({"resource":)" +
                             PatientJson("Good") +
                             R"(,"request":{"method":"POST","url":"Patient"}},)"
                             R"({"resource":)" +
                             PatientJson("Bad", "mismatch") +
                             R"(,"request":{"method":"PUT","url":"Patient/other-id"}}]})";
  HttpResponse r = Call("POST", "/fhir", bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "type"), "batch-response");
  ASSERT_EQ(EntryCount(b), 2u);
  EXPECT_EQ(Text(b, "entry.0.response.status"), "201 Created");
  EXPECT_EQ(Text(b, "entry.0.resource.name.0.family"), "Good");
  EXPECT_TRUE(Text(b, "entry.0.response.location").starts_with(std::string(kBase) + "/Patient/"));
  const std::string bad_status = Text(b, "entry.1.response.status");
  EXPECT_TRUE(bad_status.starts_with("4")) << bad_status;
  EXPECT_EQ(bad_status, "400 Bad Request");
  EXPECT_EQ(Text(b, "entry.1.response.outcome.resourceType"), "OperationOutcome");
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 1);
  EXPECT_EQ(SearchTotal("/fhir/Patient?family=good"), 1);
}

TEST_F(FhirApiTest, BatchEntriesCanReadSearchAndDelete) {
  const std::string id = Create("Patient", PatientJson("Batched"));
  const std::string bundle = R"({"resourceType":"Bundle","type":"batch","entry":[)"
                             R"({"request":{"method":"GET","url":"Patient/)" +
                             id +
                             R"("}},)"
                             R"({"request":{"method":"GET","url":"Patient?family=batched"}},)"
                             R"({"request":{"method":"DELETE","url":"Patient/)" +
                             id +
                             R"("}},)"
                             R"({"request":{"method":"GET","url":"Patient/missing"}}]})";
  auto parsed = fhir::ParseResource(bundle);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto out = api_->ProcessBundle(std::move(parsed).value(), /*keep_ids=*/false);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->entries, 4u);
  EXPECT_EQ(out->failed, 1u);
  auto b = json::Parse(out->response_bundle);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Text(*b, "entry.0.response.status"), "200 OK");
  EXPECT_EQ(Text(*b, "entry.0.resource.id"), id);
  EXPECT_EQ(Text(*b, "entry.1.resource.type"), "searchset");
  EXPECT_EQ(Text(*b, "entry.1.resource.total"), "1");
  EXPECT_EQ(Text(*b, "entry.2.response.status"), "204 No Content");
  EXPECT_EQ(Text(*b, "entry.3.response.status"), "404 Not Found");
  EXPECT_EQ(Get("/fhir/Patient/" + id).status, 410);
}

// ---------------------------------------------------------------------------------------
// $everything

TEST_F(FhirApiTest, EverythingReturnsThePatientItsRecordAndTheOrganizationsItRefersTo) {
  const std::string org =
      Create("Organization", R"({"resourceType":"Organization","name":"General Hospital"})");
  const std::string unrelated_org =
      Create("Organization", R"({"resourceType":"Organization","name":"Elsewhere"})");
  const std::string pid = Create("Patient", PatientJson("Everything"));
  const std::string other = Create("Patient", PatientJson("Other"));
  const std::string enc = Create(
      "Encounter",
      R"({"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/)" +
          pid + R"("},"serviceProvider":{"reference":"Organization/)" + org +
          R"("},"period":{"start":"2021-01-01T10:00:00Z","end":"2021-01-01T11:00:00Z"}})");
  const std::string o1 =
      Create("Observation", ObservationJson("Patient/" + pid, "29463-7", "2021-01-01", "70", "kg"));
  const std::string o2 =
      Create("Observation", ObservationJson("Patient/" + pid, "8302-2", "2021-01-02", "170", "cm"));
  Create("Observation", ObservationJson("Patient/" + other, "29463-7", "2021-01-01", "90", "kg"));

  HttpResponse r = Get("/fhir/Patient/" + pid + "/$everything");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value b = Body(r);
  EXPECT_EQ(Text(b, "type"), "searchset");
  EXPECT_EQ(Total(b), 5);
  ASSERT_EQ(EntryCount(b), 5u);
  EXPECT_EQ(Text(b, "entry.0.resource.resourceType"), "Patient");
  EXPECT_EQ(Text(b, "entry.0.resource.id"), pid);
  std::multiset<std::string> refs;
  for (const auto& e : b.find("entry")->items())
    refs.insert(Text(e, "resource.resourceType") + "/" + Text(e, "resource.id"));
  EXPECT_EQ(refs,
            (std::multiset<std::string>{"Patient/" + pid, "Encounter/" + enc, "Observation/" + o1,
                                        "Observation/" + o2, "Organization/" + org}));
  EXPECT_FALSE(refs.contains("Organization/" + unrelated_org));
  // The record is a match; what it refers to is an include.
  EXPECT_EQ(Set(EntryIds(b, "match")), Set({pid, enc, o1, o2}));
  EXPECT_EQ(EntryIds(b, "include"), std::vector<std::string>{org});

  EXPECT_EQ(Call("POST", "/fhir/Patient/" + pid + "/$everything").status, 200);
  EXPECT_EQ(Get("/fhir/Patient/unknown/$everything").status, 404);
  ASSERT_EQ(Call("DELETE", "/fhir/Patient/" + other).status, 204);
  EXPECT_EQ(Get("/fhir/Patient/" + other + "/$everything").status, 410);
  EXPECT_EQ(Get("/fhir/Observation/" + o1 + "/$everything").status, 404);
}

// ---------------------------------------------------------------------------------------
// bad input

TEST_F(FhirApiTest, MalformedJsonReturns400WithDiagnostics) {
  HttpResponse r = Call("POST", "/fhir/Patient", R"({"resourceType":"Patient",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), kFhirJsonType);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.severity"), "error");
  EXPECT_EQ(Text(oo, "issue.0.code"), "invalid");
  EXPECT_NE(Diagnostics(oo).find("line 1"), std::string::npos) << Diagnostics(oo);
  EXPECT_EQ(Call("PUT", "/fhir/Patient/x", "[1,2").status, 400);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
}

TEST_F(FhirApiTest, AnUnknownResourceTypeInTheBodyReturns400) {
  HttpResponse r = Call("POST", "/fhir/Patient", R"({"resourceType":"Spaceship","id":"x"})");
  EXPECT_EQ(r.status, 400);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_NE(Diagnostics(oo).find("Spaceship"), std::string::npos) << Diagnostics(oo);
  EXPECT_EQ(Call("POST", "/fhir/Patient", R"({"name":[{"family":"X"}]})").status, 400);
  EXPECT_EQ(Call("POST", "/fhir/Spaceship", R"({"resourceType":"Spaceship"})").status, 404);
}

TEST_F(FhirApiTest, AnInvalidDateReturns422NamingTheElementPath) {
  HttpResponse r =
      Call("POST", "/fhir/Patient", R"({"resourceType":"Patient","birthDate":"1970-02-31"})");
  EXPECT_EQ(r.status, 422) << r.body;
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.code"), "processing");
  EXPECT_EQ(Text(oo, "issue.0.expression.0"), "Patient.birthDate");
  EXPECT_NE(Diagnostics(oo).find("Patient.birthDate"), std::string::npos);

  HttpResponse obs = Call("POST", "/fhir/Observation",
                          ObservationJson("Patient/x", "29463-7", "yesterday", "1", "kg"));
  EXPECT_EQ(obs.status, 422);
  EXPECT_EQ(Text(Body(obs), "issue.0.expression.0"), "Observation.effectiveDateTime");
  EXPECT_EQ(SystemHistoryTotal(), 0);
}

TEST_F(FhirApiTest, ANonJsonContentTypeReturns415) {
  HttpResponse r =
      Call("POST", "/fhir/Patient", PatientJson("Plain"), {{"content-type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  json::Value oo = Body(r);
  EXPECT_EQ(Text(oo, "resourceType"), "OperationOutcome");
  EXPECT_EQ(Text(oo, "issue.0.code"), "not-supported");
  // A form body is only for _search.
  EXPECT_EQ(Call("POST", "/fhir/Patient", PatientJson("Form"),
                 {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            415);
  // Plain application/json with parameters is fine.
  EXPECT_EQ(Call("POST", "/fhir/Patient", PatientJson("Json"),
                 {{"content-type", "Application/JSON; charset=utf-8"}})
                .status,
            201);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 1);
}

TEST_F(FhirApiTest, AnXmlAcceptHeaderOrFormatReturns406) {
  HttpResponse r = Get("/fhir/metadata", {{"accept", "application/xml"}});
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome");
  EXPECT_EQ(Get("/fhir/metadata?_format=xml").status, 406);
  EXPECT_EQ(Get("/fhir/metadata", {{"accept", "application/fhir+json"}}).status, 200);
  EXPECT_EQ(Get("/fhir/metadata", {{"accept", "*/*"}}).status, 200);
  EXPECT_EQ(Get("/fhir/metadata?_format=json").status, 200);
}

TEST_F(FhirApiTest, EveryJsonTestSuiteRejectionCaseIsA4xxAndStoresNothing) {
  const fs::path dir = fs::path(MEDHUB_SHARED_DATA) / "testsuites/json/test_parsing";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("n_") || !name.ends_with(".json")) continue;
    ++cases;
    std::string body = ReadFile(entry.path());
    if (body.empty()) body = " ";  // an empty body is not a request body; send whitespace
    HttpResponse r = Call("POST", "/fhir/Patient", std::move(body));
    EXPECT_GE(r.status, 400) << name;
    EXPECT_LT(r.status, 500) << name;
    EXPECT_EQ(Text(Body(r), "resourceType"), "OperationOutcome") << name;
  }
  EXPECT_GT(cases, 150u);
  EXPECT_EQ(SearchTotal("/fhir/Patient"), 0);
  EXPECT_EQ(SystemHistoryTotal(), 0);
}

// ---------------------------------------------------------------------------------------
// import

TEST_F(FhirApiTest, ImportingASyntheaBundleTwiceWithKeptIdsChangesNothingTheSecondTime) {
  const fs::path file = fs::path(MEDHUB_SHARED_DATA) / "fhir/synthea" /
                        "Rufus_Kihn_6b950b05-7dbf-450f-bca9-f05acff7a452.json";
  const std::string text = ReadFile(file);
  ASSERT_FALSE(text.empty()) << file;
  auto first_bundle = fhir::ParseResource(text);
  ASSERT_TRUE(first_bundle.ok()) << first_bundle.status().ToString();
  const size_t n = first_bundle->find("entry")->items().size();
  ASSERT_GT(n, 100u);

  auto first = api_->ProcessBundle(std::move(first_bundle).value(), /*keep_ids=*/true);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->entries, n);
  EXPECT_EQ(first->http_status, 200);
  auto r1 = json::Parse(first->response_bundle);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(Text(*r1, "type"), "transaction-response");
  ASSERT_EQ(EntryCount(*r1), n);
  for (size_t i = 0; i < n; ++i)
    EXPECT_EQ(Text(*r1, "entry." + std::to_string(i) + ".response.status"), "201 Created") << i;
  const int64_t history = SystemHistoryTotal();
  EXPECT_EQ(history, static_cast<int64_t>(n));

  // The ids of the Bundle were kept and its urn:uuid references resolved to them.
  const std::string patient = "98ab6aa3-882b-4206-8a91-e9a8dfa69008";
  EXPECT_EQ(Get("/fhir/Patient/" + patient).status, 200);
  EXPECT_EQ(SearchTotal("/fhir/Observation?patient=" + patient), 50);
  EXPECT_EQ(SearchTotal("/fhir/Encounter?patient=" + patient), 12);

  auto second_bundle = fhir::ParseResource(text);
  ASSERT_TRUE(second_bundle.ok());
  auto second = api_->ProcessBundle(std::move(second_bundle).value(), /*keep_ids=*/true);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->entries, n);
  auto r2 = json::Parse(second->response_bundle);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(EntryCount(*r2), n);
  for (size_t i = 0; i < n; ++i) {
    const std::string e = "entry." + std::to_string(i);
    EXPECT_EQ(Text(*r2, e + ".response.status"), "200 OK") << i;
    EXPECT_EQ(Text(*r2, e + ".response.etag"), "W/\"1\"") << i;
    EXPECT_EQ(Text(*r2, e + ".response.location"), Text(*r1, e + ".response.location")) << i;
  }
  EXPECT_EQ(SystemHistoryTotal(), history);
  HttpResponse read = Get("/fhir/Patient/" + patient);
  EXPECT_EQ(HeaderOf(read, "ETag"), "W/\"1\"");
}

}  // namespace
}  // namespace medhub::server
