// The FHIR R4 (4.0.1) resource types.
#pragma once

#include <span>
#include <string_view>

namespace medhub::fhir {

// True for the resource types of FHIR R4 (case-sensitive: "Patient", not "patient").
bool IsKnownResourceType(std::string_view type);

// All R4 resource types in alphabetical order.
std::span<const std::string_view> AllResourceTypes();

}  // namespace medhub::fhir
