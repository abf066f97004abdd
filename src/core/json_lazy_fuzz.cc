// libFuzzer target (differential): LazyDoc must accept exactly what json::Parse accepts,
// fail with the same message, and answer every lookup (kind, text, find, get_string,
// items) as the parsed tree does. Any difference aborts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "core/json_lazy.h"

namespace {

using medhub::json::LazyNode;
using medhub::json::Value;

void Check(bool same) {
  if (!same) std::abort();
}

void ExpectSame(const Value& v, const LazyNode& n) {
  Check(static_cast<int>(v.kind()) == static_cast<int>(n.kind()));
  Check(v.text() == n.text());
  if (v.is_object()) {
    for (const medhub::json::Member& m : v.members()) {
      const std::optional<LazyNode> found = n.find(m.first);
      Check(found.has_value());
      ExpectSame(*v.find(m.first), *found);
      Check(v.get_string(m.first) == n.get_string(m.first));
    }
  }
  size_t i = 0;
  for (const LazyNode& item : n.items()) {
    Check(i < v.items().size());
    ExpectSame(v.items()[i], item);
    ++i;
  }
  Check(i == v.items().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const medhub::Result<Value> parsed = medhub::json::Parse(text);
  medhub::json::LazyDoc doc;
  const medhub::Status loaded = doc.Load(text);
  Check(parsed.ok() == loaded.ok());
  if (!parsed.ok()) {
    Check(parsed.status().message() == loaded.message());
    return 0;
  }
  ExpectSame(*parsed, doc.root());
  return 0;
}
