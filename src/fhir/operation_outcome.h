// OperationOutcome: how medhub tells a FHIR client what went wrong.
#pragma once

#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace medhub::fhir {

// An OperationOutcome with one issue built from `status`: severity "error", the FHIR
// issue code for its StatusCode, the message as diagnostics, and the element path (see
// ErrorAt()) as expression when the message carries one.
json::Value OperationOutcomeFromStatus(const Status& status);

// An informational OperationOutcome (severity "information", code "informational").
json::Value InformationOutcome(std::string_view text);

}  // namespace medhub::fhir
