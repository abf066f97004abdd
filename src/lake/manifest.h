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
// The format this code writes. medhub-lake/3 partitions by the year a resource was first
// recorded and by a bucket count that grows with the lake (the manifest's `bucketing`);
// medhub-lake/2 is the same with 16 buckets always (read and appended to, as 16 buckets);
// medhub-lake/1 (read, never appended to) partitioned by clinical year.
inline constexpr std::string_view kManifestFormat = "medhub-lake/3";
inline constexpr std::string_view kManifestFormatV2 = "medhub-lake/2";
inline constexpr std::string_view kManifestFormatV1 = "medhub-lake/1";

struct ManifestFile {
  std::string type;  // resourceType
  std::string url;   // path relative to the lake root
  uint64_t count = 0;
  uint64_t bytes = 0;
};

// From change `from_seq` on, resources first published get `buckets` bucket folders.
struct Bucketing {
  uint64_t from_seq = 1;
  int buckets = 16;
  bool operator==(const Bucketing&) const = default;
};

// The bucket count for a resource whose version 1 has change sequence `seq`: the entry with
// the greatest from_seq <= seq (the first entry for smaller ones). 16 when `list` is empty.
int BucketsAt(const std::vector<Bucketing>& list, uint64_t seq);

struct Manifest {
  std::string format = std::string(kManifestFormat);  // as read; written: kManifestFormat
  uint64_t commit = 0;
  uint64_t previous_seq = 0;
  uint64_t seq = 0;
  std::string transaction_time;  // FHIR instant
  uint64_t changes = 0;
  uint64_t superseding = 0;
  // Every bucket count the lake has used, oldest first (from_seq increasing, buckets
  // growing); cumulative, so the latest manifest alone has it. medhub-lake/2 manifests have
  // none: they read as {{1, 16}}.
  std::vector<Bucketing> bucketing;
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
