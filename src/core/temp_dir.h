// Test helper shared by every module's tests: a fresh directory under the system temp
// directory, removed with its contents when the object goes. Header-only; not used by
// production code. Not thread-safe (one owner).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "core/ids.h"

namespace medhub::testing {

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("medhub-test-" + NewId())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace medhub::testing
