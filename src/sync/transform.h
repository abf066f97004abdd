// How a resource pulled from an institution becomes a resource of the center
// (docs/formats/sync.md, "Synced resources"). Pure functions; thread-safe.
//
// - Ids are namespaced per source: "<source>-<source id>", so the same id arriving from
//   two sources names two resources and never conflicts. When that would exceed FHIR's
//   64 characters, the id part is replaced by the first 32 hex digits of its SHA-256.
// - References to the source's own resources ("Type/id", "Type/id/_history/v" and
//   absolute URLs under the source's base) are rewritten to "Type/<source>-<id>"; the
//   version of a versioned reference is dropped (the center numbers versions itself).
//   Contained ("#x"), urn: and foreign absolute references are kept as they are.
// - Provenance: meta.source = "<source base>/<Type>/<id>/_history/<source version>", the
//   institution, its id and its version in one URI. meta.versionId and lastUpdated are
//   the center's (the store sets them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace medhub::sync {

std::string LocalId(std::string_view source, std::string_view source_id);

// Rewrites `resource` in place as described above. `base` is the source's FHIR base.
void Localize(json::Value* resource, std::string_view source, std::string_view base,
              uint64_t source_version);

// The source version recorded in a synced resource's meta.source, 0 when absent.
uint64_t SourceVersionOf(const json::Value& resource);

}  // namespace medhub::sync
