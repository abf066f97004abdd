// FHIR R4 resources as validated JSON.
//
// ParseResource() turns request bytes into a json::Value that is known to be a resource
// medhub can store: an object with a known resourceType, a valid id when present, and
// well-typed values in the elements that search, the compartment index and the care
// module read (dates, instants, codings, quantities, references). Everything else is kept
// exactly as received: medhub never drops or rewrites elements it does not understand.
//
// Errors name the offending element with a FHIRPath-like location, e.g.
// "Observation.valueQuantity.value: expected a number"; see ErrorAt() and ErrorPath().
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace medhub::fhir {

// Parses and validates a resource. Syntax errors are InvalidArgument; well-formed JSON
// that is not a valid resource is Unprocessable.
Result<json::Value> ParseResource(std::string_view body);

// Validates an already parsed value (as ParseResource does after parsing).
Status ValidateResource(const json::Value& resource);

// A Status whose message is "<path>: <problem>", the convention ErrorPath() reads back.
Status ErrorAt(StatusCode code, std::string_view path, std::string_view problem);
// The element path of an error made by ErrorAt(), or "" when it has none.
std::string ErrorPath(const Status& status);

// A parsed reference string.
struct Reference {
  enum class Kind { kRelative, kAbsolute, kUrn, kContained };
  Kind kind = Kind::kRelative;
  std::string type;     // "Patient" for "Patient/1" and ".../fhir/Patient/1"
  std::string id;       // "1"
  std::string version;  // "2" for "Patient/1/_history/2"
  std::string text;     // as written
};

// Parses "Type/id", "Type/id/_history/v", an absolute http(s) URL ending in Type/id,
// "urn:uuid:...", "urn:oid:..." or "#contained". Errors: InvalidArgument.
Result<Reference> ParseReference(std::string_view text);

// The parts of a reference string as views into it (valid while the text lives).
struct ReferenceView {
  Reference::Kind kind = Reference::Kind::kRelative;
  std::string_view type, id, version;  // as in Reference
};
// What ParseReference gives, without copies (for the indexer's hot path); nullopt when
// ParseReference would fail.
std::optional<ReferenceView> ParseReferenceView(std::string_view text);

// A Coding: {"system": system, "code": code, "display": display}, in that order; an empty
// display is left out (a FHIR string is never empty).
json::Value MakeCoding(std::string_view system, std::string_view code,
                       std::string_view display = "");
// A CodeableConcept of one Coding: {"coding": [coding], "text": text}; an empty text is
// left out.
json::Value MakeConcept(json::Value coding, std::string_view text = "");

// The resource's "id" or "" when it has none.
inline std::string_view ResourceId(const json::Value& r) { return r.get_string("id"); }
inline std::string_view ResourceType(const json::Value& r) { return r.get_string("resourceType"); }

}  // namespace medhub::fhir
