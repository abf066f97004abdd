// The serializer against a plain reference implementation, on every string length and
// escape position around its copy and growth steps (json_serialize.cc).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "core/json.h"

namespace medhub::json {
namespace {

// The reference: one byte at a time, the escapes json.h documents.
std::string ReferenceQuoted(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// A string of `len` bytes cycling through letters, with `special` at `pos` (if pos < len).
std::string Sample(size_t len, size_t pos, char special) {
  std::string s;
  for (size_t i = 0; i < len; ++i) s += static_cast<char>('a' + i % 26);
  if (pos < len) s[pos] = special;
  return s;
}

TEST(JsonSerializeTest, NamesAndStringsOfEveryLengthMatchTheReference) {
  // Lengths around the 4-, 8-, 16- and 32-byte copy steps; clean, and with a byte to
  // escape first, in the middle and last.
  for (size_t len = 0; len < 80; ++len) {
    for (const char special : {'x', '"', '\n', '\x01'}) {
      for (const size_t pos : {size_t{0}, len / 2, len == 0 ? 0 : len - 1}) {
        const std::string s = Sample(len, pos, special);
        Value object = Value::Object();
        object.set(s, Value::String(s));
        object.set("n", Value::Int(static_cast<int64_t>(len)));
        Value array = Value::Array();
        array.push_back(Value::String(s));
        array.push_back(std::move(object));
        const std::string q = ReferenceQuoted(s);
        const std::string expected =
            "[" + q + ",{" + q + ":" + q + ",\"n\":" + std::to_string(len) + "}]";
        EXPECT_EQ(Serialize(array), expected);
        std::string out = "prefix";
        AppendQuoted(s, &out);
        EXPECT_EQ(out, "prefix" + q);
      }
    }
  }
}

TEST(JsonSerializeTest, LargeValuesAppendedToExistingTextAreComplete) {
  // Far more than the writer's first slack, so it grows many times, and written after
  // text already in the string (which must be kept).
  Value doc = Value::Object();
  std::string expected = "{";
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "key" + std::to_string(i);
    const std::string text =
        Sample(static_cast<size_t>(i % 70), static_cast<size_t>(i % 7), i % 3 == 0 ? '\t' : 'z');
    Value item = Value::Array();
    item.push_back(Value::String(text));
    item.push_back(Value::Bool(i % 2 == 0));
    item.push_back(Value());
    doc.set(key, std::move(item));
    expected += (i ? ",\"" : "\"") + key + "\":[" + ReferenceQuoted(text) + "," +
                (i % 2 == 0 ? "true" : "false") + ",null]";
  }
  expected += "}";
  std::string out(1000, '#');
  SerializeTo(doc, &out);
  EXPECT_EQ(out, std::string(1000, '#') + expected);
  EXPECT_EQ(Serialize(doc), expected);
  // A string with room to spare gets the same bytes.
  std::string roomy;
  roomy.reserve(4 * expected.size());
  roomy = "x";
  SerializeTo(doc, &roomy);
  EXPECT_EQ(roomy, "x" + expected);
}

TEST(JsonSerializeTest, ScalarsAtTheTopLevelAreWrittenAlone) {
  std::string out;
  for (const Value& v : {Value(), Value::Bool(true), Value::Bool(false), Value::Int(-42),
                         Value::Number("1.50e+3"), Value::String("a\"b")}) {
    SerializeTo(v, &out);
    out += ' ';
  }
  EXPECT_EQ(out, "null true false -42 1.50e+3 \"a\\\"b\" ");
}

}  // namespace
}  // namespace medhub::json
