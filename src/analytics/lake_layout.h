// Writes resources into a local folder in the lake layout of docs/formats/lake.md
// (<root>/<Type>/date=YYYY/bucket=NN/part-<commit>-<index>.ndjson, partitions from
// lake/partition.h), for `medhub gen`,
// tests and benchmarks that need a lake without a store. Each file is written under a
// '_'-prefixed name and renamed when complete, so readers never see a partial file.
// No manifests are written (readers of data files do not need them).
//
// Thread-safety: not thread-safe; one writer per root.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace medhub::analytics {

// The lake partition folder of a resource (relative to the root), per docs/formats/lake.md.
std::string LakePartition(const json::Value& resource);

class LakeFolderWriter {
 public:
  // Files are rolled at `file_bytes`.
  LakeFolderWriter(std::string root, uint64_t commit, uint64_t file_bytes = 64ull << 20);
  ~LakeFolderWriter();
  // Appends one compact JSON line (the resource's serialization).
  Status Add(const json::Value& resource);
  Status AddLine(std::string_view partition, std::string_view line);
  // Writes out everything buffered. Must be called before destruction to see errors.
  Status Finish();
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct Open {
    std::string data;
    int index = 0;
  };
  Status Flush(const std::string& partition, Open* open);

  std::string root_;
  uint64_t commit_;
  uint64_t file_bytes_;
  std::map<std::string, Open> open_;
  uint64_t buffered_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace medhub::analytics
