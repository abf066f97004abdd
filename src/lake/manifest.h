// The lake's commit manifests (docs/formats/lake.md, "Manifests and commits"): their JSON,
// their file names under _manifests/, and reading the committed ones back — what readers
// (the analytics engines, $export) use to get a consistent snapshot of the lake.
//
// Pure functions apart from ReadManifests (which reads through a FileSystem). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/filesystem.h"

namespace medhub::lake {

inline constexpr std::string_view kManifestDir = "_manifests";
inline constexpr std::string_view kStagingDir = "_staging";
// The format this code writes. medhub-lake/2 partitions by the year a resource was first
// recorded; medhub-lake/1 (read, never appended to) by its clinical year.
inline constexpr std::string_view kManifestFormat = "medhub-lake/2";
inline constexpr std::string_view kManifestFormatV1 = "medhub-lake/1";

struct ManifestFile {
  std::string type;  // resourceType
  std::string url;   // path relative to the lake root
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct Manifest {
  std::string format = std::string(kManifestFormat);  // as read; written: kManifestFormat
  uint64_t commit = 0;
  uint64_t previous_seq = 0;
  uint64_t seq = 0;
  std::string transaction_time;  // FHIR instant
  uint64_t changes = 0;
  uint64_t superseding = 0;
  std::vector<ManifestFile> output;
};

// "manifest-0000000012.json", "_pending-0000000012.json", "0000000012".
std::string ManifestName(uint64_t commit);
std::string PendingName(uint64_t commit);
std::string CommitDigits(uint64_t commit);
// The commit number in a manifest (or, with pending=true, a pending) file name.
std::optional<uint64_t> CommitOfName(std::string_view name, bool pending);

std::string SerializeManifest(const Manifest& m);
// Errors: DataLoss naming what is wrong.
Result<Manifest> ParseManifest(std::string_view text);

// Every committed manifest, in commit order (empty for a new lake). Errors: the file
// system's; DataLoss for a manifest that does not parse or a gap in the commit numbers.
Result<std::vector<Manifest>> ReadManifests(FileSystem* fs);

}  // namespace medhub::lake
