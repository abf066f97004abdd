// For tests that read or rewrite a store directory's bytes below the Store interface (old
// formats, tampering, key-by-key comparisons). Header-only; not used by production code.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "store/keys.h"

namespace medhub::testing {

// A store directory's RocksDB opened directly (no Store may have it open), with every
// column family it holds, each with default options. A failure to open is a test failure
// (ok() tells). The destructor releases the handles and closes the database.
class RawStoreDb {
 public:
  explicit RawStoreDb(const std::string& path, bool read_only = false) {
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies({}, path, &names_).ok()) << path;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names_) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s =
        read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &handles_, &raw)
                  : rocksdb::DB::Open(rocksdb::Options(), path, cfs, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  ~RawStoreDb() {
    if (!db_) return;
    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      EXPECT_TRUE(db_->DestroyColumnFamilyHandle(h).ok());
    }
  }
  RawStoreDb(const RawStoreDb&) = delete;
  RawStoreDb& operator=(const RawStoreDb&) = delete;

  bool ok() const { return db_ != nullptr; }
  rocksdb::DB* db() const { return db_.get(); }
  // Every column family, in the order of names().
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return handles_; }
  const std::vector<std::string>& names() const { return names_; }
  // The column family named `name`, or nullptr.
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const {
    for (size_t i = 0; i < names_.size() && i < handles_.size(); ++i)
      if (names_[i] == name) return handles_[i];
    return nullptr;
  }
  // Marks the directory as store format `version` (keys::kMetaFormat).
  void SetFormat(uint64_t version) {
    std::string v;
    PutBigEndian64(&v, version);
    EXPECT_TRUE(db_->Put({}, store::keys::kMetaFormat, v).ok());
  }

 private:
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace medhub::testing
