#include "core/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace medhub::json {

// Lets GoogleTest print Values in failure messages.
void PrintTo(const Value& v, std::ostream* os) { *os << Serialize(v); }

namespace {

// Parses `text`, failing the test on error, and returns the value.
Value MustParse(std::string_view text, const ParseOptions& options = {}) {
  auto r = Parse(text, options);
  EXPECT_TRUE(r.ok()) << "input: " << text << "\nerror: " << r.status().ToString();
  return r.ok() ? std::move(r).value() : Value();
}

std::string RoundTrip(std::string_view text) { return Serialize(MustParse(text)); }

// The error message of parsing `text`, or "<parsed>" when it parsed.
std::string ParseError(std::string_view text, const ParseOptions& options = {}) {
  auto r = Parse(text, options);
  if (r.ok()) return "<parsed>";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// ---------------------------------------------------------------------------------
// Round trips.

TEST(JsonRoundTripTest, ParseThenSerializeGivesCompactTextWithoutWhitespace) {
  EXPECT_EQ(
      RoundTrip(
          " { \"a\" : [ 1 , true , false , null , \"x\" ] ,\n\t\"b\" : { } , \"c\" : [ ] }\r\n"),
      R"({"a":[1,true,false,null,"x"],"b":{},"c":[]})");
  EXPECT_EQ(RoundTrip("  42 "), "42");
  EXPECT_EQ(RoundTrip("\"\""), "\"\"");
  EXPECT_EQ(RoundTrip("null"), "null");
}

TEST(JsonRoundTripTest, DecimalsKeepTheirExactSourceText) {
  EXPECT_EQ(RoundTrip(R"({"value":1.50})"), R"({"value":1.50})");
  EXPECT_EQ(RoundTrip("[1e400,-0,0.0,-0.000,1E+2,2e-7,123456789012345678901234567890]"),
            "[1e400,-0,0.0,-0.000,1E+2,2e-7,123456789012345678901234567890]");
  Value v = MustParse("1.50");
  ASSERT_TRUE(v.is_number());
  EXPECT_EQ(v.text(), "1.50");
  Value big = MustParse("1e400");
  EXPECT_EQ(big.text(), "1e400");
  EXPECT_FALSE(big.as_double().has_value());
}

TEST(JsonRoundTripTest, UnicodeEscapesDecodeToUtf8IncludingSurrogatePairs) {
  Value v = MustParse(R"(["\u00e9", "\u20AC", "\uD834\uDD1E", "\u0041\/\"\\", "\u0000"])");
  ASSERT_EQ(v.items().size(), 5u);
  EXPECT_EQ(v.items()[0].text(), "\xC3\xA9");
  EXPECT_EQ(v.items()[1].text(), "\xE2\x82\xAC");
  EXPECT_EQ(v.items()[2].text(), "\xF0\x9D\x84\x9E");
  EXPECT_EQ(v.items()[3].text(), "A/\"\\");
  EXPECT_EQ(v.items()[4].text(), std::string(1, '\0'));
  // Non-ASCII comes back as raw UTF-8; only '"', '\\' and controls are escaped.
  EXPECT_EQ(Serialize(v),
            "[\"\xC3\xA9\",\"\xE2\x82\xAC\",\"\xF0\x9D\x84\x9E\",\"A/\\\"\\\\\",\"\\u0000\"]");
}

TEST(JsonRoundTripTest, RawUtf8InStringsIsKeptAsIs) {
  const std::string text = "{\"name\":\"Ad\xC3\xA1n \xE2\x80\xA8 \xF4\x8F\xBF\xBF \x7F\"}";
  EXPECT_EQ(RoundTrip(text), text);
}

TEST(JsonRoundTripTest, SerializationEscapesControlCharactersWithShortFormsWhereTheyExist) {
  std::string s = "a\"b\\c\b\f\n\r\t";
  s.push_back('\0');
  s += "\x01\x1F\x7F/";
  EXPECT_EQ(Serialize(Value::String(s)),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7F/\"");
  // And what is written parses back to the same text.
  EXPECT_EQ(MustParse(Serialize(Value::String(s))).text(), s);
}

TEST(JsonRoundTripTest, LongStringsWithEscapesAtEveryPositionRoundTrip) {
  // Exercises the word-at-a-time scanners on every alignment.
  for (size_t len = 0; len < 40; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (char special : {'"', '\\', '\n', '\x01'}) {
        std::string s(len, 'x');
        s[pos] = special;
        const std::string json = Serialize(Value::String(s));
        auto r = Parse(json);
        ASSERT_TRUE(r.ok()) << json;
        EXPECT_EQ(r->text(), s);
      }
    }
  }
}

TEST(JsonRoundTripTest, ObjectMemberOrderIsKept) {
  EXPECT_EQ(RoundTrip(R"({"z":1,"a":2,"m":{"y":3,"b":4}})"), R"({"z":1,"a":2,"m":{"y":3,"b":4}})");
  Value v = MustParse(R"({"z":1,"a":2})");
  ASSERT_EQ(v.members().size(), 2u);
  EXPECT_EQ(v.members()[0].first, "z");
  EXPECT_EQ(v.members()[1].first, "a");
}

TEST(JsonRoundTripTest, SerializeToAppendsAndAppendQuotedWritesAStringLiteral) {
  std::string out = "prefix:";
  SerializeTo(MustParse("[1, \"a\"]"), &out);
  EXPECT_EQ(out, "prefix:[1,\"a\"]");
  std::string q;
  AppendQuoted("say \"hi\"\n", &q);
  EXPECT_EQ(q, "\"say \\\"hi\\\"\\n\"");
}

// ---------------------------------------------------------------------------------
// Strictness and errors.

TEST(JsonParseTest, ErrorsNameLineAndColumnAndWhatWentWrong) {
  EXPECT_EQ(ParseError("{\"a\":1,\n  \"b\" 2}"),
            "line 2, column 7: expected ':' after object member name, found '2'");
  EXPECT_EQ(ParseError("{\"a\":1 \"b\":2}"),
            "line 1, column 8: expected ',' or '}' after object member, found '\"'");
  EXPECT_EQ(ParseError("[1 2]"),
            "line 1, column 4: expected ',' or ']' after array element, found '2'");
  EXPECT_EQ(ParseError("[01]"), "line 1, column 2: invalid number");
  EXPECT_EQ(ParseError("[1.]"), "line 1, column 2: invalid number");
  EXPECT_EQ(ParseError("[\"abc"), "line 1, column 2: unterminated string");
  EXPECT_EQ(ParseError(""), "line 1, column 1: expected a value, found end of input");
  EXPECT_EQ(ParseError("[1,]"), "line 1, column 4: expected a value, found ']'");
  EXPECT_EQ(ParseError("{} x"), "line 1, column 4: unexpected 'x' after the JSON value");
  // Columns count characters, not bytes.
  EXPECT_EQ(ParseError("[\"\xC3\xA9\xC3\xA9\" x]"),
            "line 1, column 7: expected ',' or ']' after array element, found 'x'");
}

TEST(JsonParseTest, StringsRejectRawControlCharactersAndBadEscapes) {
  EXPECT_EQ(ParseError("[\"a\tb\"]"), "line 1, column 4: unescaped control character in string");
  EXPECT_NE(ParseError(std::string("[\"a\0b\"]", 6)), "<parsed>");
  EXPECT_EQ(ParseError(R"(["\x"])"), "line 1, column 3: invalid escape sequence in string");
  EXPECT_EQ(ParseError(R"(["\u12G4"])"),
            "line 1, column 3: invalid \\u escape (expected 4 hex digits)");
  EXPECT_NE(ParseError(R"(["\u12)"), "<parsed>");
  EXPECT_EQ(ParseError("[\"ab\\"), "line 1, column 2: unterminated string");
}

TEST(JsonParseTest, LoneSurrogateEscapesAreRejected) {
  EXPECT_EQ(ParseError(R"(["\uD800"])"), "line 1, column 3: unpaired surrogate in \\u escape");
  EXPECT_NE(ParseError(R"(["\uDC00"])"), "<parsed>");
  EXPECT_NE(ParseError(R"(["\uD800\u0041"])"), "<parsed>");
  EXPECT_NE(ParseError(R"(["\uDD1E\uD834"])"), "<parsed>");
  EXPECT_NE(ParseError(R"(["\uD800\"])"), "<parsed>");
  EXPECT_EQ(MustParse(R"("\uDBFF\uDFFF")").text(), "\xF4\x8F\xBF\xBF");
}

TEST(JsonParseTest, InvalidUtf8IsRejected) {
  const char* bad[] = {
      "\"\x80\"",              // stray continuation byte
      "\"\xC0\xAF\"",          // overlong '/'
      "\"\xE0\x80\xAF\"",      // overlong 3-byte
      "\"\xF0\x80\x80\xAF\"",  // overlong 4-byte
      "\"\xED\xA0\x80\"",      // UTF-8 encoded surrogate U+D800
      "\"\xF4\x90\x80\x80\"",  // U+110000
      "\"\xF8\x88\x80\x80\x80\"",
      "\"\xE2\x82\"",  // truncated
      "\"\xE2\x82",    // truncated at end of input
      "\"\xFF\"",
  };
  for (const char* text : bad) {
    const std::string error = ParseError(text);
    EXPECT_NE(error, "<parsed>") << text;
  }
  EXPECT_EQ(ParseError("[\"ab\xC0\xAF\"]"), "line 1, column 5: invalid UTF-8 in string");
  EXPECT_EQ(MustParse("\"\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80\"").text(),
            "\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80");
}

TEST(JsonParseTest, NonAsciiAndInvalidUtf8AreFoundAtEveryPositionOfLongStrings) {
  // Exercises the 16- and 8-byte string scanners on every alignment and tail length.
  for (size_t len = 1; len < 40; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      std::string ok(len, 'x');
      ok.replace(pos, 1, "\xC3\xA9");  // U+00E9
      EXPECT_EQ(MustParse("\"" + ok + "\"").text(), ok);
      std::string bad(len, 'x');
      bad.replace(pos, 1, "\xC0\xAF");
      EXPECT_EQ(ParseError("\"" + bad + "\""),
                "line 1, column " + std::to_string(pos + 2) + ": invalid UTF-8 in string");
    }
  }
}

TEST(JsonParseTest, NestedContainersOfEverySizeKeepTheirElementsInOrder) {
  // Objects of n members whose middle member is an array of n objects: the parser's
  // element stacks must give each container exactly its own elements.
  for (int n = 0; n < 20; ++n) {
    std::string inner = "[";
    for (int i = 0; i < n; ++i)
      inner += (i ? ",{\"i\":" : "{\"i\":") + std::to_string(i) + ",\"s\":\"v" + std::to_string(i) +
               "\"}";
    inner += "]";
    std::string text = "{";
    for (int i = 0; i < n; ++i) {
      text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":";
      text += i == n / 2 ? inner : "\"" + std::string(static_cast<size_t>(i), 'x') + "\"";
    }
    text += "}";
    ParseOptions strict;
    strict.reject_duplicate_keys = true;
    EXPECT_EQ(Serialize(MustParse(text, strict)), text);
  }
}

TEST(JsonParseTest, DuplicateKeysAreFoundAfterANestedLargeObjectWithTheSameNames) {
  ParseOptions strict;
  strict.reject_duplicate_keys = true;
  std::string names;  // "k0":0,...,"k19":19
  for (int i = 0; i < 20; ++i)
    names += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  const std::string text = "{" + names + ",\"inner\":{" + names + "}";
  EXPECT_TRUE(Parse(text + "}", strict).ok());
  const std::string error = ParseError(text + ",\"k3\":0}", strict);
  EXPECT_EQ(error, "line 1, column " + std::to_string(text.size() + 2) + ": duplicate key \"k3\"");
}

TEST(JsonParseTest, DuplicateKeysAreFoundInBigObjectsNestedInBigObjects) {
  // Three big objects open at once, then big siblings: each has its own name table.
  ParseOptions strict;
  strict.reject_duplicate_keys = true;
  auto big = [](const std::string& prefix, const std::string& last) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "\"" + prefix + std::to_string(i) + "\":" + "0,";
    return s + last;
  };
  const std::string inner = "{" + big("k", "\"z\":1") + "}";
  const std::string middle = "{" + big("k", "\"inner\":" + inner) + "}";
  const std::string ok = "{" + big("k", "\"a\":" + middle + ",\"b\":" + middle) + "}";
  EXPECT_TRUE(Parse(ok, strict).ok());
  const std::string bad_sibling =
      "{" + big("k", "\"a\":" + middle + ",\"b\":{" + big("k", "\"k7\":1") + "}") + "}";
  EXPECT_NE(ParseError(bad_sibling, strict).find("duplicate key \"k7\""), std::string::npos);
  const std::string bad_outer = ok.substr(0, ok.size() - 1) + ",\"k39\":2}";
  EXPECT_EQ(ParseError(bad_outer, strict),
            "line 1, column " + std::to_string(ok.size() + 1) + ": duplicate key \"k39\"");
  // An error inside nested big objects leaves the next parse unaffected.
  EXPECT_TRUE(Parse(ok, strict).ok());
}

TEST(JsonParseTest, ByteOrderMarkIsRejected) {
  EXPECT_EQ(ParseError("\xEF\xBB\xBF{}"), "line 1, column 1: byte order mark is not allowed");
}

TEST(JsonParseTest, DuplicateKeysAreAcceptedByDefaultAndRejectedWithTheOption) {
  Value v = MustParse(R"({"a":1,"a":2})");
  EXPECT_EQ(v.members().size(), 2u);
  ParseOptions strict;
  strict.reject_duplicate_keys = true;
  EXPECT_EQ(ParseError(R"({"a":1,"b":{"a":2},"a":3})", strict),
            "line 1, column 20: duplicate key \"a\"");
  EXPECT_TRUE(Parse(R"({"a":1,"b":{"a":2}})", strict).ok());
  // Escaped spellings of the same name are the same key.
  EXPECT_NE(ParseError(R"({"ab":1,"a\u0062":2})", strict), "<parsed>");
}

TEST(JsonParseTest, DuplicateKeysAreFoundInLargeObjects) {
  ParseOptions strict;
  strict.reject_duplicate_keys = true;
  std::string unique = "{";
  for (int i = 0; i < 5000; ++i)
    unique += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  Value v = MustParse(unique + "}", strict);
  EXPECT_EQ(v.members().size(), 5000u);
  EXPECT_EQ(v.members()[4999].first, "k4999");
  for (int dup : {0, 15, 16, 17, 2500, 4999}) {
    const std::string error = ParseError(unique + ",\"k" + std::to_string(dup) + "\":0}", strict);
    EXPECT_NE(error.find("duplicate key \"k" + std::to_string(dup) + "\""), std::string::npos)
        << error;
  }
}

TEST(JsonParseTest, DeepNestingReturnsAnErrorInsteadOfOverflowingTheStack) {
  EXPECT_EQ(ParseError(std::string(100000, '[')), "line 1, column 201: nesting deeper than 200");
  EXPECT_NE(ParseError(std::string(100000, '[') + std::string(100000, ']')), "<parsed>");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_NE(ParseError(objects).find("nesting deeper than 200"), std::string::npos);
}

TEST(JsonParseTest, MaxDepthCountsNestedContainers) {
  ParseOptions three;
  three.max_depth = 3;
  EXPECT_TRUE(Parse("[{\"a\":[1]}]", three).ok());
  EXPECT_EQ(ParseError("[{\"a\":[[]]}]", three), "line 1, column 8: nesting deeper than 3");
  EXPECT_TRUE(Parse(std::string(200, '[') + std::string(200, ']')).ok());
  EXPECT_FALSE(Parse(std::string(201, '[') + std::string(201, ']')).ok());
}

// ---------------------------------------------------------------------------------
// JSONTestSuite (https://github.com/nst/JSONTestSuite) conformance.

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(JsonConformanceTest, AcceptsEveryYCaseRejectsEveryNCaseAndSurvivesEveryICase) {
  const std::filesystem::path dir =
      std::string(MEDHUB_SHARED_DATA) + "/testsuites/json/test_parsing";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int y_seen = 0, n_seen = 0, i_seen = 0;
  std::vector<std::string> failures;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const std::string text = ReadFile(entry.path());
    auto r = Parse(text);
    if (name.starts_with("y_")) {
      ++y_seen;
      if (!r.ok()) {
        failures.push_back(name + " (should parse): " + r.status().message());
        continue;
      }
      // Serialization is a fixed point: parse(serialize(parse(x))) == parse(x).
      const std::string once = Serialize(*r);
      auto again = Parse(once);
      if (!again.ok()) {
        failures.push_back(name + " (serialized form does not parse): " + again.status().message());
      } else if (!(*again == *r)) {
        failures.push_back(name + " (round trip changed the value): " + once);
      } else if (Serialize(*again) != once) {
        failures.push_back(name + " (serialization is not deterministic)");
      }
    } else if (name.starts_with("n_")) {
      ++n_seen;
      if (r.ok()) failures.push_back(name + " (should be rejected)");
    } else if (name.starts_with("i_")) {
      ++i_seen;  // either outcome is fine; it must just not crash
      if (r.ok()) {
        auto again = Parse(Serialize(*r));
        if (!again.ok() || !(*again == *r))
          failures.push_back(name + " (accepted but does not round trip)");
      }
    }
  }
  std::ostringstream report;
  for (const std::string& f : failures) report << "\n  " << f;
  EXPECT_TRUE(failures.empty()) << failures.size() << " conformance failures:" << report.str();
  EXPECT_GE(y_seen, 90);
  EXPECT_GE(n_seen, 180);
  EXPECT_GT(i_seen, 0);
}

// ---------------------------------------------------------------------------------
// Value API.

TEST(JsonRoundTripTest, AppendQuotedEscapesExactlyTheCharactersThatNeedIt) {
  // Every length around the 4-, 8- and 16-byte scanning steps, clean and with one special.
  for (size_t len = 0; len < 40; ++len) {
    const std::string clean(len, 'a');
    std::string out = ">";
    AppendQuoted(clean, &out);
    EXPECT_EQ(out, ">\"" + clean + "\"");
    for (size_t pos = 0; pos < len; ++pos) {
      for (const auto& [special, escaped] :
           {std::pair<char, std::string>{'"', "\\\""}, {'\\', "\\\\"}, {'\x1F', "\\u001f"}}) {
        std::string s = clean;
        s[pos] = special;
        std::string expected = clean;
        expected.replace(pos, 1, escaped);
        EXPECT_EQ(Serialize(Value::String(s)), "\"" + expected + "\"");
      }
    }
  }
  EXPECT_EQ(Serialize(Value::String("\x7F\xC3\xA9")), "\"\x7F\xC3\xA9\"");  // not escaped
}

TEST(JsonValueTest, AssignStringReplacesAStringInPlaceAndAnyOtherKind) {
  Value doc =
      MustParse(R"({"a":"urn:uuid:0f5c9ab2-6f63-4c8e-9f0e-2f1c3d4e5a6b","b":[1],"c":null})");
  Value* a = doc.find("a");
  const char* buffer = a->text().data();
  a->assign_string("Patient/0f5c9ab2-6f63-4c8e-9f0e-2f1c3d4e5a6b");
  EXPECT_EQ(a->text().data(), buffer);  // fits: no new allocation
  doc.find("b")->assign_string("x");
  doc.find("c")->assign_string(std::string(40, 'y'));
  EXPECT_EQ(Serialize(doc), R"({"a":"Patient/0f5c9ab2-6f63-4c8e-9f0e-2f1c3d4e5a6b","b":"x","c":")" +
                                std::string(40, 'y') + "\"}");
}

TEST(JsonValueTest, CopiesAndMovesKeepEveryKind) {
  const Value doc = MustParse(R"([null,true,false,-1.50,"text",[1,[2]],{"a":{"b":"c"}}])");
  for (const Value& v : doc.items()) {
    Value copy = v;
    EXPECT_EQ(copy, v);
    Value moved = std::move(copy);
    EXPECT_EQ(moved, v);
    EXPECT_TRUE(copy.is_null());  // NOLINT(bugprone-use-after-move): documented state
    Value assigned_from = Value::String("old");
    assigned_from = std::move(moved);
    EXPECT_EQ(assigned_from, v);
    EXPECT_TRUE(moved.is_null());  // NOLINT(bugprone-use-after-move)
    Value assigned = Value::String("something else");
    assigned = v;
    EXPECT_EQ(assigned, v);
    assigned = Value::Int(7);
    EXPECT_EQ(Serialize(assigned), "7");
  }
  Value self = doc;
  const Value& alias = self;
  self = alias;
  EXPECT_EQ(self, doc);
}

TEST(JsonValueTest, AssigningAPartOfAValueToTheValueIsSafe) {
  Value v = MustParse(R"({"a":{"b":[1,{"c":"a long string, not a short one"}]}})");
  v = std::move(*v.find("a"));
  EXPECT_EQ(Serialize(v), R"({"b":[1,{"c":"a long string, not a short one"}]})");
  v = v.find("b")->items()[1];  // a copy
  EXPECT_EQ(Serialize(v), R"({"c":"a long string, not a short one"})");
}

TEST(JsonValueTest, ContainerAccessOnAnotherKindIsEmptyAndLeavesTheValueAlone) {
  Value s = Value::String("x");
  EXPECT_TRUE(s.items().empty());
  EXPECT_TRUE(s.members().empty());
  s.items().push_back(Value::Int(1));  // a caller bug: goes nowhere
  s.members().emplace_back("k", Value::Int(2));
  EXPECT_EQ(Serialize(s), "\"x\"");
  EXPECT_TRUE(s.items().empty());
  EXPECT_EQ(s.find("k"), nullptr);
  EXPECT_FALSE(s.erase("k"));
  EXPECT_FALSE(s.as_bool());
  const Value array = MustParse("[1]");
  EXPECT_EQ(array.text(), "");
  EXPECT_EQ(array.find("0"), nullptr);
  EXPECT_EQ(array.get_string("0"), "");
}

TEST(JsonValueTest, PushBackOnANullValueMakesItAnArray) {
  Value v;
  v.push_back(Value::Int(1));
  v.push_back(Value::String("two"));
  EXPECT_TRUE(v.is_array());
  EXPECT_EQ(Serialize(v), R"([1,"two"])");
}

TEST(JsonValueTest, SetReplacesInPlaceOrAppends) {
  Value v = MustParse(R"({"a":1,"b":2})");
  Value& b = v.set("b", Value::String("two"));
  EXPECT_EQ(b.text(), "two");
  v.set("c", Value::Bool(true));
  EXPECT_EQ(Serialize(v), R"({"a":1,"b":"two","c":true})");
  v.set("a", Value::Array()).push_back(Value::Int(7));
  EXPECT_EQ(Serialize(v), R"({"a":[7],"b":"two","c":true})");
}

TEST(JsonValueTest, SetOnANullValueMakesItAnObject) {
  Value v;
  v.set("k", Value());
  EXPECT_TRUE(v.is_object());
  EXPECT_EQ(Serialize(v), R"({"k":null})");
}

TEST(JsonValueTest, InsertAtPlacesNewMembersAndReplacesExistingOnesInPlace) {
  Value v = Value::Object();
  v.insert_at(0, "b", Value::Int(2));
  v.insert_at(0, "a", Value::Int(1));
  v.insert_at(99, "z", Value::Int(26));  // clamped to the end
  v.insert_at(1, "ab", Value::Int(12));
  EXPECT_EQ(Serialize(v), R"({"a":1,"ab":12,"b":2,"z":26})");
  Value& replaced = v.insert_at(0, "z", Value::String("last"));
  EXPECT_EQ(replaced.text(), "last");
  EXPECT_EQ(Serialize(v), R"({"a":1,"ab":12,"b":2,"z":"last"})");
}

TEST(JsonValueTest, EraseRemovesOnlyTheNamedMember) {
  Value v = MustParse(R"({"a":1,"b":2,"c":3})");
  EXPECT_TRUE(v.erase("b"));
  EXPECT_FALSE(v.erase("b"));
  EXPECT_FALSE(v.erase("missing"));
  EXPECT_EQ(Serialize(v), R"({"a":1,"c":3})");
}

TEST(JsonValueTest, FindAndGetStringLookUpMembers) {
  Value v = MustParse(R"({"resourceType":"Patient","id":"p1","active":true,"n":5})");
  ASSERT_NE(v.find("active"), nullptr);
  EXPECT_TRUE(v.find("active")->as_bool());
  EXPECT_EQ(v.find("nope"), nullptr);
  EXPECT_EQ(v.get_string("resourceType"), "Patient");
  EXPECT_EQ(v.get_string("n"), "");       // not a string
  EXPECT_EQ(v.get_string("absent"), "");  // absent
  Value* n = v.find("n");
  ASSERT_NE(n, nullptr);
  *n = Value::Int(6);
  EXPECT_EQ(Serialize(v), R"({"resourceType":"Patient","id":"p1","active":true,"n":6})");
  EXPECT_EQ(MustParse("[1]").find("a"), nullptr);  // not an object
  const Value& cv = v;
  EXPECT_EQ(cv.find("id")->text(), "p1");
}

TEST(JsonValueTest, AsIntAcceptsOnlyIntegersInRange) {
  EXPECT_EQ(MustParse("42").as_int(), 42);
  EXPECT_EQ(MustParse("-0").as_int(), 0);
  EXPECT_EQ(MustParse("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustParse("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(MustParse("9223372036854775808").as_int().has_value());
  EXPECT_FALSE(MustParse("1.5").as_int().has_value());
  EXPECT_FALSE(MustParse("1e3").as_int().has_value());
  EXPECT_FALSE(MustParse("1.0").as_int().has_value());
  EXPECT_FALSE(MustParse("\"1\"").as_int().has_value());
  EXPECT_FALSE(Value().as_int().has_value());
}

TEST(JsonValueTest, AsDoubleParsesTheNumberText) {
  EXPECT_EQ(MustParse("1.50").as_double(), 1.5);
  EXPECT_EQ(MustParse("-2.5E-3").as_double(), -0.0025);
  EXPECT_EQ(MustParse("1e3").as_double(), 1000.0);
  EXPECT_EQ(MustParse("0.1").as_double(), 0.1);
  EXPECT_FALSE(MustParse("1e400").as_double().has_value());   // overflow
  EXPECT_FALSE(MustParse("1e-400").as_double().has_value());  // underflow is out of range too
  EXPECT_FALSE(MustParse("\"1.5\"").as_double().has_value());
  EXPECT_FALSE(Value::Bool(true).as_double().has_value());
}

TEST(JsonValueTest, IntMakesANumberWhoseTextIsTheDecimalInteger) {
  EXPECT_EQ(Value::Int(0).text(), "0");
  EXPECT_EQ(Value::Int(-42).text(), "-42");
  EXPECT_EQ(Value::Int(std::numeric_limits<int64_t>::min()).text(), "-9223372036854775808");
  EXPECT_TRUE(Value::Int(5).is_number());
  EXPECT_EQ(Value::Int(5), MustParse("5"));
  EXPECT_EQ(Value::Int(123456789).as_int(), 123456789);
}

TEST(JsonValueTest, EqualityIsStructural) {
  EXPECT_EQ(MustParse(R"({"a":[1,"x",null,{"b":false}]})"),
            MustParse(R"( { "a" : [1, "x", null, {"b": false}] } )"));
  EXPECT_FALSE(MustParse("1.0") == MustParse("1"));  // number text differs
  EXPECT_FALSE(MustParse(R"({"a":1,"b":2})") == MustParse(R"({"b":2,"a":1})"));  // order matters
  EXPECT_FALSE(MustParse("\"1\"") == MustParse("1"));                            // kind differs
  EXPECT_FALSE(MustParse("[1]") == MustParse("[1,1]"));
  EXPECT_FALSE(MustParse("true") == MustParse("false"));
  EXPECT_EQ(Value(), MustParse("null"));
  EXPECT_EQ(Value::String("\xC3\xA9"), MustParse(R"("\u00E9")"));
}

TEST(JsonValueTest, ParsedKindsAndAccessorsMatchTheInput) {
  Value v = MustParse(R"([null,true,-1.25,"s",[],{}])");
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.items().size(), 6u);
  EXPECT_TRUE(v.items()[0].is_null());
  EXPECT_TRUE(v.items()[1].is_bool());
  EXPECT_TRUE(v.items()[1].as_bool());
  EXPECT_EQ(v.items()[2].kind(), Kind::kNumber);
  EXPECT_EQ(v.items()[2].text(), "-1.25");
  EXPECT_TRUE(v.items()[3].is_string());
  EXPECT_TRUE(v.items()[4].is_array());
  EXPECT_TRUE(v.items()[5].is_object());
}

}  // namespace
}  // namespace medhub::json
