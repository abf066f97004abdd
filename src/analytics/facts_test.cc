#include "analytics/facts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "analytics/job.h"
#include "core/json_lazy.h"

namespace medhub::analytics {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> AsStrings(const std::optional<Extracted>& e) {
  if (!e) return {"(none)"};
  std::vector<std::string> out = {std::string(e->group)};
  for (size_t i = 0; i < e->count; ++i) out.emplace_back(e->fields[i]);
  return out;
}

// The same resource with every object's members in reverse order.
json::Value Reversed(const json::Value& v) {
  json::Value out = v;
  if (v.is_object()) {
    out = json::Value::Object();
    for (auto it = v.members().rbegin(); it != v.members().rend(); ++it) {
      out.members().emplace_back(it->first, Reversed(it->second));
    }
  } else if (v.is_array()) {
    for (json::Value& item : out.items()) item = Reversed(item);
  }
  return out;
}

// Every resource of the Synthea sample, as compact lines, also with members reversed.
std::vector<std::string> SampleLines() {
  std::vector<std::string> lines;
  const std::filesystem::path dir = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    auto bundle = json::Parse(ReadFile(entry.path()));
    EXPECT_TRUE(bundle.ok());
    if (!bundle.ok()) continue;
    for (const json::Value& e : bundle->find("entry")->items()) {
      lines.push_back(json::Serialize(*e.find("resource")));
      lines.push_back(json::Serialize(Reversed(*e.find("resource"))));
    }
  }
  return lines;
}

TEST(Facts, ReadingLinesInPlaceExtractsExactlyWhatTheParsedTreeGives) {
  json::LazyDoc doc;
  size_t extracted = 0, lines = 0;
  for (const std::string& line : SampleLines()) {
    auto tree = json::Parse(line);
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(doc.Load(line).ok());
    const std::string type(tree->get_string("resourceType"));
    const auto from_tree = facts::ClinicalFacts(type, *tree);
    const auto in_place = facts::ClinicalFacts(type, doc.root());
    EXPECT_EQ(AsStrings(from_tree), AsStrings(in_place)) << line.substr(0, 200);
    EXPECT_EQ(AsStrings(facts::DeviceReading(type, *tree)),
              AsStrings(facts::DeviceReading(type, doc.root())));
    EXPECT_EQ(IsDeletionMarker(*tree), IsDeletionMarker(doc.root()));
    EXPECT_EQ(VersionOf(*tree), VersionOf(doc.root()));
    extracted += from_tree.has_value();
    ++lines;
  }
  EXPECT_GT(lines, 2000u);
  EXPECT_GT(extracted, 500u);  // not vacuous: many resources carry job facts
}

TEST(Facts, EscapedCodesAndReferencesAreDecodedBeforeMatching) {
  // "38341003" with escaped digits, and an escaped subject reference.
  const std::string line =
      R"({"resourceType":"Condition","id":"c\u0031","subject":{"reference":"Patient\/p\u00e9"},)"
      R"("code":{"coding":[{"code":"3834\u00310\u00303"}]},)"
      R"("onsetDateTime":"2020-01-02T00:00:00Z"})";
  json::LazyDoc doc;
  ASSERT_TRUE(doc.Load(line).ok());
  const auto e = facts::ClinicalFacts("Condition", doc.root());
  EXPECT_EQ(AsStrings(e), (std::vector<std::string>{"p\xC3\xA9", "htn", "1", "2020-01-02"}));
  EXPECT_EQ(AsStrings(e), AsStrings(facts::ClinicalFacts("Condition", *json::Parse(line))));
}

}  // namespace
}  // namespace medhub::analytics
