#include "fhir/resource.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "fhir/resource_types.h"

namespace medhub::fhir {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ResourceTest, EveryOfficialExampleResourceIsAccepted) {
  int n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/examples")) {
    auto r = ParseResource(ReadFile(e.path()));
    EXPECT_TRUE(r.ok()) << e.path() << ": " << r.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 60);
}

TEST(ResourceTest, EverySyntheaBundleIsAValidResourceWithValidEntries) {
  int n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea")) {
    auto r = ParseResource(ReadFile(e.path()));
    ASSERT_TRUE(r.ok()) << e.path() << ": " << r.status().ToString();
    EXPECT_EQ(ResourceType(*r), "Bundle");
    ++n;
  }
  EXPECT_EQ(n, 39);
}

struct BadCase {
  const char* body;
  StatusCode code;
  const char* path;  // expected ErrorPath, "" for none
};

TEST(ResourceTest, InvalidResourcesAreRejectedNamingTheElement) {
  const BadCase cases[] = {
      {"{", StatusCode::kInvalidArgument, ""},
      {"[]", StatusCode::kInvalidArgument, ""},
      {R"({"id":"1"})", StatusCode::kInvalidArgument, ""},
      {R"({"resourceType":"Patient","resourceType":"Patient"})", StatusCode::kInvalidArgument, ""},
      {R"({"resourceType":"Nonsense"})", StatusCode::kInvalidArgument, ""},
      {R"({"resourceType":"Patient","id":"a b"})", StatusCode::kUnprocessable, "Patient.id"},
      {R"({"resourceType":"Patient","birthDate":"1990-02-30"})", StatusCode::kUnprocessable,
       "Patient.birthDate"},
      {R"({"resourceType":"Patient","gender":"x"})", StatusCode::kUnprocessable, "Patient.gender"},
      {R"({"resourceType":"Patient","name":[{"family":""}]})", StatusCode::kUnprocessable,
       "Patient.name[0].family"},
      {R"({"resourceType":"Patient","name":[]})", StatusCode::kUnprocessable, "Patient.name"},
      {R"({"resourceType":"Patient","active":null})", StatusCode::kUnprocessable, "Patient.active"},
      {R"({"resourceType":"Observation","status":"final"})", StatusCode::kUnprocessable,
       "Observation.code"},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
          "effectiveDateTime":"yesterday"})",
       StatusCode::kUnprocessable, "Observation.effectiveDateTime"},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
          "valueQuantity":{"value":"12"}})",
       StatusCode::kUnprocessable, "Observation.valueQuantity.value"},
      {R"({"resourceType":"Observation","status":"final","code":{"coding":[{"code":5}]}})",
       StatusCode::kUnprocessable, "Observation.code.coding[0].code"},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
          "subject":{"reference":"Patient/a b"}})",
       StatusCode::kUnprocessable, "Observation.subject.reference"},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
          "subject":{"reference":"Patient"}})",
       StatusCode::kUnprocessable, "Observation.subject.reference"},
      {R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
          "period":{"start":"2020-13-01"}})",
       StatusCode::kUnprocessable, "Encounter.period.start"},
      {R"({"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}})",
       StatusCode::kUnprocessable, "Patient.meta.lastUpdated"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseResource(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), c.code) << c.body << " -> " << r.status().ToString();
    EXPECT_EQ(ErrorPath(r.status()), c.path) << r.status().ToString();
  }
}

TEST(ResourceTest, ErrorsInNestedResourcesNameTheFullPathAndTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nonsense"}}]})",
       "InvalidArgument: Bundle.entry[0].resource: unknown resourceType 'Nonsense'"},
      {R"({"resourceType":"Patient","contained":[{"resourceType":"Observation","status":"final",)"
       R"("code":{"coding":[{"system":1}]}}]})",
       "Unprocessable: Patient.contained[0].code.coding[0].system: expected a string"},
      {R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
       R"("subject":{"reference":"Patient/a b"}})",
       "Unprocessable: Observation.subject.reference: invalid reference 'Patient/a b': contains "
       "whitespace"},
      {R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"x"},)"
       R"({"resource":{"resourceType":"Patient","name":[{"given":["A",""]}]}}]})",
       "Unprocessable: Bundle.entry[1].resource.name[0].given[1]: empty strings are not allowed"},
      {R"({"resourceType":"Patient","contained":[{"id":"1"}]})",
       "InvalidArgument: Patient.contained[0]: missing resourceType"},
  };
  for (const auto& [body, message] : cases) {
    auto r = ParseResource(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().ToString(), message);
  }
}

TEST(ResourceTest, ResourceRulesRunInTheirOrderAndReadTheFirstOfRepeatedMembers) {
  // Several problems at once: the id comes first, then meta, then the type's rules in their
  // order (required elements before codes and dates), then the elements in document order.
  const std::pair<const char*, const char*> cases[] = {
      {R"({"resourceType":"Observation","status":"bad","issued":"x","id":"a b"})",
       "Unprocessable: Observation.id: an id is 1-64 characters of A-Z, a-z, 0-9, '-' and '.'"},
      {R"({"resourceType":"Observation","status":"bad","meta":{"versionId":"a b"},"id":"1"})",
       "Unprocessable: Observation.meta.versionId: expected an id"},
      {R"({"resourceType":"Observation","issued":"x","status":"bad"})",
       "Unprocessable: Observation.code: is required"},
      {R"({"resourceType":"Observation","issued":"x","code":{"text":"c"},"status":"bad"})",
       "Unprocessable: Observation.status: 'bad' is not an allowed code"},
      {R"({"resourceType":"Observation","issued":"x","code":{"text":"c"},"status":"final"})",
       "Unprocessable: Observation.issued: invalid date 'x': expected a four-digit year"},
      {R"({"resourceType":"MedicationRequest","subject":{"reference":"Patient/1"},"status":"active"})",
       "Unprocessable: MedicationRequest.intent: is required"},
      {R"({"resourceType":"Patient","birthDate":"1990-02-30","gender":"x"})",
       "Unprocessable: Patient.gender: 'x' is not an allowed code"},
  };
  for (const auto& [body, message] : cases) {
    auto r = ParseResource(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().ToString(), message) << body;
  }
  // A value built in code may repeat a member (the parser refuses that): the rules read
  // the first one, as json::Value::find does; the element walk still sees every one.
  json::Value valid_first = json::Parse(R"({"resourceType":"Patient","gender":"male"})").value();
  valid_first.members().emplace_back("gender", json::Value::String("x"));
  EXPECT_TRUE(ValidateResource(valid_first).ok());
  json::Value invalid_first = json::Parse(R"({"resourceType":"Patient","gender":"x"})").value();
  invalid_first.members().emplace_back("gender", json::Value::String("male"));
  EXPECT_EQ(ValidateResource(invalid_first).ToString(),
            "Unprocessable: Patient.gender: 'x' is not an allowed code");
}

TEST(ResourceTest, UnknownElementsAndDecimalPrecisionAreKeptExactly) {
  const std::string body =
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
      R"("valueQuantity":{"value":1.50,"unit":"mmol/L"},"_status":{"extension":[{"url":"u","valueString":"s"}]},)"
      R"("futureElement":{"deep":[1,2]}})";
  auto r = ParseResource(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(json::Serialize(*r), body);
}

TEST(ResourceTest, ReferencesOfEveryKindParse) {
  auto rel = ParseReference("Patient/123");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->type, "Patient");
  EXPECT_EQ(rel->id, "123");
  auto ver = ParseReference("Observation/o1/_history/3");
  ASSERT_TRUE(ver.ok());
  EXPECT_EQ(ver->version, "3");
  auto abs = ParseReference("http://example.org/fhir/Patient/9");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->kind, Reference::Kind::kAbsolute);
  EXPECT_EQ(abs->type, "Patient");
  auto urn = ParseReference("urn:uuid:9afe28dc-7ad5-4e90-b6a6-16123eae98c3");
  ASSERT_TRUE(urn.ok());
  EXPECT_EQ(urn->kind, Reference::Kind::kUrn);
  auto contained = ParseReference("#referral");
  ASSERT_TRUE(contained.ok());
  EXPECT_EQ(contained->kind, Reference::Kind::kContained);
  EXPECT_EQ(ParseReference("Patient").status().message(),
            "invalid reference 'Patient': expected Type/id");
  EXPECT_EQ(ParseReference("urn:uuid:").status().message(),
            "invalid reference 'urn:uuid:': empty urn");
  auto other = ParseReference("https://example.org/somewhere");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, Reference::Kind::kAbsolute);
  EXPECT_EQ(other->type, "");
  EXPECT_EQ(other->text, "https://example.org/somewhere");
  EXPECT_FALSE(ParseReference("Unknown/1").ok());
  EXPECT_FALSE(ParseReference("Patient/1 2").ok());
}

// What ParseReference makes of `text`: "kind type id version" or the error message.
std::string Describe(std::string_view text) {
  auto r = ParseReference(text);
  if (!r.ok()) return r.status().message();
  return std::to_string(static_cast<int>(r->kind)) + " " + r->type + " " + r->id + " " + r->version;
}

TEST(ResourceTest, ReferenceSyntaxEdgesGiveTheirExactResultOrMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {"Patient/1\t", "invalid reference 'Patient/1\t': contains whitespace"},
      {"Patient/12345678 x", "invalid reference 'Patient/12345678 x': contains whitespace"},
      {std::string("Patient/1\0", 10),
       std::string("invalid reference 'Patient/1\0", 29) + "': contains whitespace"},
      {"Patient/\x7f"
       "1",
       "invalid reference 'Patient/\x7f"
       "1': expected ResourceType/id with "
       "a known type and a valid id"},
      {"Patient/\xc3\xa9",
       "invalid reference 'Patient/\xc3\xa9': expected ResourceType/id with a "
       "known type and a valid id"},
      {"Patient/a_b",
       "invalid reference 'Patient/a_b': expected ResourceType/id with a known "
       "type and a valid id"},
      {"Patient/1/_history/2/x", "invalid reference 'Patient/1/_history/2/x': invalid version id"},
      {"Patient/1/_history/2", "0 Patient 1 2"},
      {"Patient/1/_history/_history/2",
       "invalid reference 'Patient/1/_history/_history/2': "
       "expected ResourceType/id with a known type and a valid "
       "id"},
      {"http://x.org/fhir/Patient/1/_history/3", "1 Patient 1 3"},
      {"https://x.org/a_b/c", "1   "},
      {"a/b/Patient/1", "invalid reference 'a/b/Patient/1': expected Type/id"},
      {"/Patient/1", "invalid reference '/Patient/1': expected Type/id"},
      {"Patient/1/",
       "invalid reference 'Patient/1/': expected ResourceType/id with a known "
       "type and a valid id"},
      {"MedicationRequest/m-1.2", "0 MedicationRequest m-1.2 "},
      {"patient/1",
       "invalid reference 'patient/1': expected ResourceType/id with a known type "
       "and a valid id"},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(Describe(text), expected) << text;
}

TEST(ResourceTest, EveryR4TypeAndNothingElseIsAKnownResourceType) {
  size_t n = 0;
  for (std::string_view type : AllResourceTypes()) {
    EXPECT_TRUE(IsKnownResourceType(type)) << type;
    EXPECT_FALSE(IsKnownResourceType(std::string(type) + "s")) << type;
    EXPECT_FALSE(IsKnownResourceType(type.substr(0, type.size() - 1))) << type;
    std::string lower(type);
    lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
    EXPECT_FALSE(IsKnownResourceType(lower)) << type;
    ++n;
  }
  EXPECT_EQ(n, 146u);
  for (std::string_view bad : {"", " ", "Patient ", "PATIENT", "Bundle/1", "\xff"})
    EXPECT_FALSE(IsKnownResourceType(bad)) << bad;
}

TEST(ResourceTest, CodingsAndConceptsAreBuiltInElementOrderWithoutEmptyStrings) {
  EXPECT_EQ(json::Serialize(
                MakeConcept(MakeCoding("http://loinc.org", "8867-4", "Heart rate"), "Heart rate")),
            R"({"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}],)"
            R"("text":"Heart rate"})");
  EXPECT_EQ(json::Serialize(MakeConcept(MakeCoding("urn:x", "a"))),
            R"({"coding":[{"system":"urn:x","code":"a"}]})");
}

}  // namespace
}  // namespace medhub::fhir
