// Internal to the store module: one commit's writes, sorted for RocksDB (the commit path,
// rocks_store_commit.cc; a bulk load moves them into its chunk instead).
//
// Thread safety: a batch belongs to one thread at a time; each thread keeps its own spare
// buffers (thread_local).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medhub::store {

// Collects one commit's writes and hands them to RocksDB sorted by column family and key:
// the memtable skiplist inserts ascending keys cheaply (it remembers the last insert
// position). Writes to the same key keep their relative order (stable sort), so the batch
// means exactly what the unsorted sequence meant.
//
// Keys and values are either views of bytes that outlive the batch (the commit's prepared
// keys) or bytes in the batch's one buffer, built there in place (Append*, then Since) or
// copied: a commit's writes allocate nothing of their own. The writes' vector and the buffer
// are handed from one batch to the next of the same thread (with their capacity, up to
// kKeptWrites and kKeptBytes): otherwise the allocator gets, faults in and gives back large
// blocks on every commit.
class SortedBatch {
 public:
  static constexpr size_t kKeptWrites = size_t{1} << 16;  // at most 5 MB a thread
  static constexpr size_t kKeptBytes = size_t{8} << 20;
  // Bytes of the batch: external (`ext` set) or at `at` in its buffer.
  struct Ref {
    const char* ext = nullptr;
    uint32_t at = 0;
    uint32_t size = 0;
  };
  SortedBatch() = default;
  ~SortedBatch() {
    if (ops_.capacity() <= kKeptWrites && ops_.capacity() > Spare().ops.capacity()) {
      ops_.clear();
      ops_.swap(Spare().ops);
    }
    if (bytes_.capacity() <= kKeptBytes && bytes_.capacity() > Spare().bytes.capacity()) {
      bytes_.clear();
      bytes_.swap(Spare().bytes);
    }
  }
  SortedBatch(SortedBatch&&) = default;
  SortedBatch& operator=(SortedBatch&&) = default;

  // The buffer to build bytes in: append after noting its size, then Since(that size).
  std::string* buffer() { return &bytes_; }
  Ref Since(size_t at) const {
    return {nullptr, static_cast<uint32_t>(at), static_cast<uint32_t>(bytes_.size() - at)};
  }
  Ref Copy(std::string_view bytes) {
    const size_t at = bytes_.size();
    bytes_.append(bytes);
    return Since(at);
  }
  // `bytes` must outlive the batch.
  static Ref View(std::string_view bytes) {
    return {bytes.data(), 0, static_cast<uint32_t>(bytes.size())};
  }
  // Returns the write's position, for key(), value() and SetValue().
  size_t Put(rocksdb::ColumnFamilyHandle* cf, Ref key, Ref value) {
    ops_.push_back({cf->GetID(), false, cf, key, value});
    return ops_.size() - 1;
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, std::string_view key) {
    ops_.push_back({cf->GetID(), true, cf, Copy(key), Ref()});
  }
  std::string_view key(size_t i) const { return Bytes(ops_[i].key); }
  std::string_view value(size_t i) const { return Bytes(ops_[i].value); }
  void SetValue(size_t i, Ref value) { ops_[i].value = value; }
  bool empty() const { return ops_.empty(); }
  void Reserve(size_t writes, size_t bytes) {
    if (ops_.capacity() == 0) ops_.swap(Spare().ops);  // empty: the spare is cleared when kept
    ops_.reserve(writes);
    ReserveBytes(bytes);
  }
  // Room for `more` bytes: appending them moves no byte of the buffer.
  void ReserveBytes(size_t more) {
    if (bytes_.empty() && bytes_.capacity() < Spare().bytes.capacity()) bytes_.swap(Spare().bytes);
    bytes_.reserve(bytes_.size() + more);
  }
  size_t size() const { return ops_.size(); }
  // Hands every write, in the order written, to f(cf, key, value, del) (bulk load).
  template <typename F>
  void ForEach(F&& f) const {
    for (const Op& op : ops_) f(op.cf, Bytes(op.key), Bytes(op.value), op.del);
  }
  rocksdb::WriteBatch Build() const {
    std::vector<uint32_t> order(ops_.size());
    size_t bytes = 0;
    for (uint32_t i = 0; i < order.size(); ++i) {
      order[i] = i;
      bytes += ops_[i].key.size + ops_[i].value.size + 16;
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const Op& x = ops_[a];
      const Op& y = ops_[b];
      if (x.cf_id != y.cf_id) return x.cf_id < y.cf_id;
      if (int c = Bytes(x.key).compare(Bytes(y.key)); c != 0) return c < 0;
      return a < b;  // same key: keep the order of the writes
    });
    rocksdb::WriteBatch batch(bytes);
    for (uint32_t i : order) {
      const Op& op = ops_[i];
      if (op.del) {
        batch.Delete(op.cf, Bytes(op.key));
      } else {
        batch.Put(op.cf, Bytes(op.key), Bytes(op.value));
      }
    }
    return batch;
  }

 private:
  struct Op {
    uint32_t cf_id;
    bool del;
    rocksdb::ColumnFamilyHandle* cf;
    Ref key, value;
  };
  struct Kept {
    std::vector<Op> ops;
    std::string bytes;
  };
  static Kept& Spare() {
    thread_local Kept spare;
    return spare;
  }
  std::string_view Bytes(Ref r) const {
    return {r.ext != nullptr ? r.ext : bytes_.data() + r.at, r.size};
  }
  std::vector<Op> ops_;
  std::string bytes_;
};

}  // namespace medhub::store
