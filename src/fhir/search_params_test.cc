#include "fhir/search_params.h"

#include <gtest/gtest.h>

#include "fhir/resource.h"

namespace medhub::fhir {
namespace {

json::Value Parse(std::string_view s) {
  auto r = ParseResource(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : json::Value();
}

std::vector<std::string> ValuesOf(const std::vector<IndexValue>& vs, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& v : vs)
    if (v.param->name == name) out.push_back(v.system.empty() ? v.value : v.system + "|" + v.value);
  return out;
}

TEST(SearchParamsTest, PatientNamesAreIndexedNormalizedAndIdentifiersAsTokens) {
  auto p = Parse(R"({"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1970-05",
    "name":[{"family":"Müller","given":["Jörg","Paul"]}],
    "identifier":[{"system":"urn:ssn","value":"999-1"}]})");
  auto vs = ExtractIndexValues(p);
  EXPECT_EQ(ValuesOf(vs, "family"), std::vector<std::string>{"muller"});
  EXPECT_EQ(ValuesOf(vs, "given"), (std::vector<std::string>{"jorg", "paul"}));
  EXPECT_EQ(ValuesOf(vs, "identifier"), std::vector<std::string>{"urn:ssn|999-1"});
  EXPECT_EQ(ValuesOf(vs, "gender"), std::vector<std::string>{"male"});
  for (const auto& v : vs) {
    if (v.param->name == "birthdate") {
      EXPECT_EQ(v.range.low, DaysFromCivil(1970, 5, 1) * 86'400'000'000);
      EXPECT_EQ(v.range.high, DaysFromCivil(1970, 6, 1) * 86'400'000'000);
    }
  }
  EXPECT_EQ(PatientCompartmentsOf(p), std::vector<std::string>{"p1"});
}

TEST(SearchParamsTest, ObservationYieldsCodeSubjectDateAndQuantity) {
  auto o = Parse(R"({"resourceType":"Observation","id":"o1","status":"final",
    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
    "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
    "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-02T03:04:05Z",
    "valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}})");
  auto vs = ExtractIndexValues(o);
  EXPECT_EQ(ValuesOf(vs, "code"), std::vector<std::string>{"http://loinc.org|8867-4"});
  // "patient" is searched in the "subject" index (same element, Patient targets only).
  EXPECT_TRUE(ValuesOf(vs, "patient").empty());
  EXPECT_EQ(ValuesOf(vs, "subject"), std::vector<std::string>{"Patient/p1"});
  EXPECT_EQ(IndexedParam(*FindSearchParam("Observation", "patient")).name, "subject");
  EXPECT_EQ(IndexedParam(*FindSearchParam("Immunization", "patient")).name, "patient");
  bool saw_quantity = false;
  for (const auto& v : vs) {
    if (v.param->name == "value-quantity") {
      saw_quantity = true;
      EXPECT_EQ(v.number, 72);
      EXPECT_EQ(v.value, "/min");
    }
  }
  EXPECT_TRUE(saw_quantity);
  EXPECT_EQ(PatientCompartmentsOf(o), std::vector<std::string>{"p1"});
  EXPECT_EQ(ClinicalTime(o, 0), ParseFhirDate("2020-01-02T03:04:05Z")->low);
}

TEST(SearchParamsTest, EveryReferenceFormIndexesAsTypeSlashIdOrNotAtAll) {
  auto parsed = json::Parse(R"({"resourceType":"Observation","id":"o1",
    "subject":{"reference":"Patient/p1/_history/3"},
    "encounter":{"reference":"Patient/p9"},
    "performer":[{"reference":"Practitioner/d1"},{"reference":"Patient/p2"},
                 {"reference":"http://other.org/fhir/Patient/p3"},{"reference":"Unknown/u1"},
                 {"reference":"Patient/bad id"},{"reference":"urn:uuid:1"},{"reference":"#c1"}]})");
  ASSERT_TRUE(parsed.ok());
  auto vs = ExtractIndexValues(*parsed);
  EXPECT_EQ(ValuesOf(vs, "subject"), std::vector<std::string>{"Patient/p1"});
  EXPECT_TRUE(ValuesOf(vs, "encounter").empty());  // its target is Encounter
  EXPECT_EQ(PatientCompartmentsOf(*parsed), (std::vector<std::string>{"p1", "p2", "p3"}));
  auto e = json::Parse(R"({"resourceType":"Observation","id":"o2",
    "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
    "performer":[{"reference":"Patient/p1"}]})");
  ASSERT_TRUE(e.ok());
  vs = ExtractIndexValues(*e);
  EXPECT_EQ(ValuesOf(vs, "subject"), std::vector<std::string>{"Patient/p1"});
  EXPECT_EQ(ValuesOf(vs, "encounter"), std::vector<std::string>{"Encounter/e1"});
  EXPECT_EQ(PatientCompartmentsOf(*e), std::vector<std::string>{"p1"});
}

TEST(SearchParamsTest, ReferencesToOtherTypesDoNotFillThePatientParameter) {
  auto o = Parse(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "subject":{"reference":"Group/g1"}})");
  auto vs = ExtractIndexValues(o);
  EXPECT_TRUE(ValuesOf(vs, "patient").empty());
  EXPECT_EQ(ValuesOf(vs, "subject"), std::vector<std::string>{"Group/g1"});
  EXPECT_TRUE(PatientCompartmentsOf(o).empty());
}

TEST(SearchParamsTest, NormalizationFoldsCaseAndLatinAccents) {
  EXPECT_EQ(NormalizeString("ÁngEL Peña"), "angel pena");
  EXPECT_EQ(NormalizeString("O'Keefe"), "o'keefe");
}

TEST(SearchParamsTest, ValueRefsAreTheValuesAndStayValidWhileMoreAreAdded) {
  std::string names;
  for (int i = 0; i < 40; ++i)
    names += (i ? "," : "") + std::string("\"Given") + char('A' + i % 26) + "\"";
  auto p = Parse(R"({"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1970-05",
    "managingOrganization":{"reference":"http://x.org/fhir/Organization/o1/_history/2"},
    "name":[{"family":"Müller","given":[)" +
                 names + R"(]}],
    "identifier":[{"system":"urn:ssn","value":"999-1"}]})");
  IndexValueRefs refs;
  for (int round = 0; round < 2; ++round) {  // a reused object gives the same values again
    ExtractIndexValueRefs(p, &refs);
    const std::vector<IndexValue> values = ExtractIndexValues(p);
    ASSERT_EQ(refs.values.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(refs.values[i].param, values[i].param);
      EXPECT_EQ(refs.values[i].value, values[i].value);
      EXPECT_EQ(refs.values[i].system, values[i].system);
      EXPECT_EQ(refs.values[i].range, values[i].range);
    }
  }
  std::vector<std::string> given;
  for (const IndexValueRef& r : refs.values)
    if (r.param->name == "given") given.emplace_back(r.value);
  ASSERT_EQ(given.size(), 40u);
  EXPECT_EQ(given[0], "givena");
  EXPECT_EQ(given[39], "givenn");
  bool organization = false;
  for (const IndexValueRef& r : refs.values)
    organization |= r.param->name == "organization" && r.value == "Organization/o1";
  EXPECT_TRUE(organization);
}

TEST(SearchParamsTest, CompartmentIdsAreThePatientsReferencedOnceEach) {
  auto c = Parse(R"({"resourceType":"Claim","id":"c1","patient":{"reference":"Patient/p1"},
    "provider":{"reference":"Organization/o1"},"status":"active","use":"claim",
    "created":"2020-01-01","careTeam":[{"sequence":1,"provider":{"reference":"Practitioner/d"}}],
    "insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/x"}}],
    "priority":{"coding":[{"code":"normal"}]},"type":{"coding":[{"code":"x"}]}})");
  std::vector<std::string_view> ids{"stale"};
  PatientCompartmentIds(c, &ids);
  EXPECT_EQ(ids, std::vector<std::string_view>{"p1"});
  EXPECT_EQ(PatientCompartmentsOf(c), std::vector<std::string>{"p1"});
  auto e = Parse(R"({"resourceType":"Encounter","id":"e1","status":"finished",
    "class":{"code":"AMB"},"subject":{"reference":"Patient/p2"},
    "participant":[{"individual":{"reference":"Practitioner/d"}}]})");
  PatientCompartmentIds(e, &ids);
  EXPECT_EQ(ids, std::vector<std::string_view>{"p2"});
  auto pat = Parse(R"({"resourceType":"Patient","id":"p9"})");
  PatientCompartmentIds(pat, &ids);
  EXPECT_EQ(ids, std::vector<std::string_view>{"p9"});
}

}  // namespace
}  // namespace medhub::fhir
