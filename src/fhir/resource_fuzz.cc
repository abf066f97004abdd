// libFuzzer target: the resource parser must never crash, hang or leak on any input, and
// whatever it accepts must serialize and parse back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "fhir/resource.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto r = medhub::fhir::ParseResource(input);
  if (r.ok()) {
    auto again = medhub::fhir::ParseResource(medhub::json::Serialize(*r));
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  return 0;
}
