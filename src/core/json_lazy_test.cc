#include "core/json_lazy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace medhub::json {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Checks that a lazily read node answers every question the parsed tree answers the same
// way: kind, text, every member through find() (first of duplicates), every item.
void ExpectSame(const Value& v, const LazyNode& n, const std::string& path) {
  ASSERT_EQ(static_cast<int>(v.kind()), static_cast<int>(n.kind())) << path;
  EXPECT_EQ(v.text(), n.text()) << path;
  if (v.is_object()) {
    for (const Member& m : v.members()) {
      const std::optional<LazyNode> found = n.find(m.first);
      ASSERT_TRUE(found.has_value()) << path << "." << m.first;
      ExpectSame(*v.find(m.first), *found, path + "." + m.first);
      EXPECT_EQ(v.get_string(m.first), n.get_string(m.first)) << path << "." << m.first;
    }
    EXPECT_FALSE(n.find("no such member").has_value()) << path;
  }
  size_t i = 0;
  for (const LazyNode& item : n.items()) {
    ASSERT_LT(i, v.items().size()) << path;
    ExpectSame(v.items()[i], item, path + "[" + std::to_string(i) + "]");
    ++i;
  }
  EXPECT_EQ(i, v.items().size()) << path;
}

// Loads `text` both ways and compares the outcome (status and message, or content).
void ExpectLoadsLikeParse(std::string_view text) {
  const Result<Value> parsed = Parse(text);
  LazyDoc doc;
  const Status loaded = doc.Load(text);
  ASSERT_EQ(parsed.ok(), loaded.ok()) << text << "\n" << loaded.message();
  if (!parsed.ok()) {
    EXPECT_EQ(parsed.status().message(), loaded.message()) << text;
    EXPECT_TRUE(doc.root().is_null());
    return;
  }
  ExpectSame(*parsed, doc.root(), "$");
}

const char* const kTricky[] = {
    // Escapes in values and keys; the key "\u0069d" is "id".
    R"({"resourceType":"Patient","\u0069d":"p\"1\\","name":"a\/b\n\t\u00e9\ud83d\ude00"})",
    // Unicode as UTF-8, fields in any order, whitespace everywhere.
    " { \"status\" : \"final\" ,\n\t\"id\":\"Ωμέγα\", \"resourceType\" :\"Observation\" } \r",
    // Nested arrays and objects skipped over to reach later members.
    R"({"a":[[[],[{}],[[1,2,[3]]]],{"b":{"c":[{"d":"}]\"{["}]}}],"id":"x","z":[true,false,null]})",
    // Duplicate keys: the first one is found, as json::Value::find finds it.
    R"({"id":"first","id":"second","meta":{"versionId":"1","versionId":"2"}})",
    // Numbers kept as written.
    R"({"valueQuantity":{"value":1.50},"n":[-0,0.5e-3,1E+9,123456789012345678901234567890]})",
    R"({})",
    R"([])",
    R"("just a string")",
    R"(42)",
    R"({"resourceType":"Observation","component":[{"code":{"coding":[{"code":"8480-6"}]},)"
    R"("valueQuantity":{"value":120}},{"code":{"coding":[{"code":"8462-4"}]},)"
    R"("valueQuantity":{"value":80.5}}]})",
};

TEST(JsonLazyTest, TrickyDocumentsReadTheSameAsTheParsedTree) {
  for (const char* text : kTricky) ExpectLoadsLikeParse(text);
}

TEST(JsonLazyTest, EveryTruncationOfALineFailsWithTheParsersMessage) {
  for (const char* full : kTricky) {
    const std::string_view text(full);
    for (size_t n = 0; n < text.size(); ++n) ExpectLoadsLikeParse(text.substr(0, n));
  }
}

TEST(JsonLazyTest, BadLinesFailWithTheParsersMessage) {
  for (const char* text :
       {R"({"a":1,})", R"({"a" 1})", R"({"a":"\x"})", R"({"a":"\ud800"})", "{\"a\":\"\x01\"}",
        "{\"a\":\"\xC3\x28\"}", "\xEF\xBB\xBF{}", R"({"a":01})", R"({"a":tru})", R"({"a":1}{)",
        R"({"a":[1 2]})", R"(not json at all)", ""}) {
    ExpectLoadsLikeParse(text);
  }
}

TEST(JsonLazyTest, NestingDeeperThanTheParsersLimitIsRejected) {
  const size_t limit = ParseOptions{}.max_depth;
  ExpectLoadsLikeParse(std::string(limit, '[') + std::string(limit, ']'));
  ExpectLoadsLikeParse(std::string(limit + 1, '[') + std::string(limit + 1, ']'));
}

TEST(JsonLazyTest, AcceptsAndRejectsExactlyWhatTheParserDoesOnJsonTestSuite) {
  const std::filesystem::path dir =
      std::string(MEDHUB_SHARED_DATA) + "/testsuites/json/test_parsing";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ExpectLoadsLikeParse(ReadFile(entry.path()));
    ++seen;
  }
  EXPECT_GE(seen, 300);
}

TEST(JsonLazyTest, EverySyntheaResourceReadsTheSameAsTheParsedTree) {
  const std::filesystem::path dir = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  int resources = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const Result<Value> bundle = Parse(ReadFile(entry.path()));
    ASSERT_TRUE(bundle.ok());
    const Value* entries = bundle->find("entry");
    ASSERT_NE(entries, nullptr);
    for (const Value& e : entries->items()) {
      const std::string line = Serialize(*e.find("resource"));
      ExpectLoadsLikeParse(line);
      ++resources;
    }
  }
  EXPECT_GT(resources, 1000);
}

TEST(JsonLazyTest, ReloadingReusesTheDocumentAndDecodedStringsStayValidUntilThen) {
  LazyDoc doc;
  ASSERT_TRUE(doc.Load(R"({"a":"x\u0041","b":"y\u0042","c":"z\u0043"})").ok());
  const std::string_view a = doc.root().get_string("a");
  const std::string_view b = doc.root().get_string("b");
  const std::string_view c = doc.root().get_string("c");
  EXPECT_EQ(a, "xA");
  EXPECT_EQ(b, "yB");
  EXPECT_EQ(c, "zC");
  ASSERT_TRUE(doc.Load(R"({"a":"plain"})").ok());
  EXPECT_EQ(doc.root().get_string("a"), "plain");
  EXPECT_FALSE(doc.Load(R"({"a":)").ok());
  EXPECT_TRUE(doc.root().is_null());
}

}  // namespace
}  // namespace medhub::json
