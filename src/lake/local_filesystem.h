// LocalFileSystem: the lake on a local directory (the default, DATA/lake).
//
// Every path is resolved under the root given at construction. With Durability::kEachCall
// Create/Append/Truncate/Rename fsync the file and its directory before returning, so
// "durable when it returns" holds across a power cut. With kAtBarrier they do not, and
// Barrier() makes everything durable at once (syncfs of the root's file system): the lake
// writer's mode, which writes thousands of small files per commit. Errors from the OS are mapped:
// ENOENT → NotFound, EEXIST → AlreadyExists, ENOSPC/EDQUOT → ResourceExhausted, EACCES →
// PermissionDenied, anything else → Unavailable (with the path and strerror).
//
// Thread-safety: stateless apart from the root; safe from any number of threads (two
// writers of the same file are the caller's problem, as on any file system).
#pragma once

#include <memory>
#include <string>

#include "lake/filesystem.h"

namespace medhub::lake {

class LocalFileSystem : public FileSystem {
 public:
  enum class Durability { kEachCall, kAtBarrier };
  // `root` is created (with parents) on first write; it need not exist yet.
  explicit LocalFileSystem(std::string root, Durability durability = Durability::kEachCall);

  Status MakeDirs(std::string_view path) override;
  Status Create(std::string_view path, std::string_view data, bool overwrite) override;
  Status Append(std::string_view path, std::string_view data) override;
  Result<std::string> Read(std::string_view path, uint64_t offset = 0,
                           std::optional<uint64_t> length = std::nullopt) override;
  Result<FileInfo> Stat(std::string_view path) override;
  Result<std::vector<FileInfo>> List(std::string_view directory) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Truncate(std::string_view path, uint64_t length) override;
  Status Delete(std::string_view path, bool recursive) override;
  Status Barrier() override;
  std::string Describe() const override;

  const std::string& root() const { return root_; }

 private:
  Result<std::string> Resolve(std::string_view path) const;
  Status SyncDirIfEach(const std::string& dir) const;
  std::string root_;
  const bool each_call_;
};

}  // namespace medhub::lake
