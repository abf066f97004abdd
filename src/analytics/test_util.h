// Helpers for the analytics tests: small lakes written line by line.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/temp_dir.h"

namespace medhub::analytics::testing {

using medhub::testing::TempDir;  // core/temp_dir.h

inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

inline std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace medhub::analytics::testing
