// The lake's view of a file system: the few operations the lake writer, the
// analytics engines and $export need, with two implementations — a local
// directory (the default, under the data directory) and HDFS through WebHDFS.
//
// Paths are relative to the file system's root, '/'-separated, without a
// leading '/', and never contain "." or ".." segments (implementations reject
// them with InvalidArgument). Every failure is a Status; nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace medhub::lake {

struct FileInfo {
  std::string name;  // last path segment
  bool is_directory = false;
  uint64_t size = 0;  // bytes; 0 for directories
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates the directory and any missing parents; existing is fine.
  virtual Status MakeDirs(std::string_view path) = 0;

  // Writes a whole file, creating parents. With overwrite=false an existing
  // file is AlreadyExists. Durable when it returns (local: fsync of file and
  // directory; HDFS: the DataNode pipeline acknowledged close).
  virtual Status Create(std::string_view path, std::string_view data, bool overwrite) = 0;

  // Appends to an existing file (NotFound if missing). Durable when it returns.
  virtual Status Append(std::string_view path, std::string_view data) = 0;

  // Reads `length` bytes from `offset` (to the end if length is nullopt).
  virtual Result<std::string> Read(std::string_view path, uint64_t offset = 0,
                                   std::optional<uint64_t> length = std::nullopt) = 0;

  // Stat of one path; NotFound if it does not exist.
  virtual Result<FileInfo> Stat(std::string_view path) = 0;

  // Entries of a directory, sorted by name; NotFound if it does not exist.
  virtual Result<std::vector<FileInfo>> List(std::string_view directory) = 0;

  // Atomic rename; the destination's parent must exist. Replaces an existing
  // destination file (used to publish manifests).
  virtual Status Rename(std::string_view from, std::string_view to) = 0;

  // Cuts a file to `length` bytes (repairs a tail written after the last
  // manifest by a crashed writer).
  virtual Status Truncate(std::string_view path, uint64_t length) = 0;

  // Deletes a file, or a directory (recursive=true for a non-empty one).
  // Deleting something that does not exist is Ok.
  virtual Status Delete(std::string_view path, bool recursive) = 0;

  // Makes every change made through this object so far durable, for implementations that
  // defer durability to it (LocalFileSystem with Durability::kAtBarrier: one syncfs instead
  // of an fsync per file). The lake writer calls it between the steps of a commit.
  virtual Status Barrier() { return Status::Ok(); }

  // Human-readable location, e.g. "file:///data/lake" or "webhdfs://127.0.0.1:9870/medhub".
  virtual std::string Describe() const = 0;
};

}  // namespace medhub::lake

namespace medhub::lake {

// Checks a lake path against the rules above (InvalidArgument when broken). "" is the root.
Status ValidatePath(std::string_view path);
// "a" + "b" → "a/b"; either side may be "".
std::string JoinPath(std::string_view a, std::string_view b);

// Opens the file system a --lake flag names: "webhdfs://HOST:PORT/PATH" (HDFS through
// WebHDFS, the NameNode's HTTP address), "file:///abs/dir" or a plain directory path.
// InvalidArgument for anything else. Nothing is contacted or created yet.
Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view location);

}  // namespace medhub::lake
