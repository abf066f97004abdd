// Test helpers for the security module (tests only): a real RocksDB store in a fresh
// temporary directory, removed when the helper goes out of scope.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/ids.h"
#include "store/store.h"

namespace medhub::security {

class TempStore {
 public:
  TempStore() : dir_(std::filesystem::temp_directory_path() / ("medhub-security-" + NewId())) {
    auto s = store::OpenRocksStore({dir_.string()});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store_ = std::move(s).value();
  }
  ~TempStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;

  store::Store* get() const { return store_.get(); }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

// Microseconds since the epoch of a fixed test instant (2026-01-01T00:00:00Z).
inline constexpr int64_t kTestNow = 1'767'225'600'000'000;
inline constexpr int64_t kSecond = 1'000'000;

}  // namespace medhub::security
