// Compact, deterministic JSON serialization (the canonical bytes of docs/formats/store.md).
#include <string>

#include "core/json.h"
#include "core/json_scan.h"

namespace medhub::json {
namespace {

using internal::FindQuoteBackslashOrControl;
using internal::HasQuoteBackslashOrControl;

// ---------------------------------------------------------------------------------
// Serialization.

void AppendEscaped(unsigned char c, std::string* out) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char b[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(b, 6);
    }
  }
}

void SerializeValue(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Kind::kNull:
      out->append("null");
      return;
    case Kind::kBool:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case Kind::kNumber:
      out->append(v.text());
      return;
    case Kind::kString:
      AppendQuoted(v.text(), out);
      return;
    case Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        SerializeValue(item, out);
      }
      out->push_back(']');
      return;
    }
    case Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Member& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(m.first, out);
        out->push_back(':');
        SerializeValue(m.second, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Serialize(const Value& v) {
  std::string out;
  SerializeValue(v, &out);
  return out;
}

void SerializeTo(const Value& v, std::string* out) { SerializeValue(v, out); }

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  if (!HasQuoteBackslashOrControl(s)) {  // most strings: copied as they are
    out->append(s);
    out->push_back('"');
    return;
  }
  const char* p = s.data();
  const char* const end = p + s.size();
  for (;;) {
    const char* stop = FindQuoteBackslashOrControl(p, end);
    out->append(p, stop);
    if (stop == end) break;
    AppendEscaped(static_cast<unsigned char>(*stop), out);
    p = stop + 1;
  }
  out->push_back('"');
}

}  // namespace medhub::json
