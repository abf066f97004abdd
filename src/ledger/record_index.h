// RecordIndex: which leaf holds each record version, for LedgerState.
//
// Keys are RecordKeys, 16 bytes of SHA-256, so they are already uniformly distributed: the
// table is open addressing with linear probing over their first 8 bytes, kept at most half
// full. One lookup touches one or two cache lines, which matters at millions of entries
// (a node-based map costs a cache miss per bucket and per node). About 48 bytes per record.
//
// Thread-safety: none inside; const methods may run concurrently with each other.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace medhub::ledger {

using RecordKey = std::array<uint8_t, 16>;

class RecordIndex {
 public:
  size_t size() const { return size_; }

  // The leaf of `key`, or nullopt.
  std::optional<uint64_t> Find(const RecordKey& key) const {
    if (slots_.empty()) return std::nullopt;
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.leaf_plus_one == 0) return std::nullopt;
      if (s.key == key) return s.leaf_plus_one - 1;
    }
  }
  bool Contains(const RecordKey& key) const { return Find(key).has_value(); }

  // Adds key -> leaf; false (and no change) when the key is already present.
  bool Insert(const RecordKey& key, uint64_t leaf) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, slots_.size() * 2));
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.leaf_plus_one == 0) {
        s = Slot{key, leaf + 1};
        ++size_;
        return true;
      }
      if (s.key == key) return false;
    }
  }

  // Makes room for `n` records in total (an optimization only).
  void Reserve(size_t n) {
    size_t capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    if (capacity > slots_.size()) Rehash(capacity);
  }

 private:
  struct Slot {
    RecordKey key{};
    uint64_t leaf_plus_one = 0;  // 0: empty
  };

  size_t Home(const RecordKey& key) const {
    uint64_t h = 0;
    std::memcpy(&h, key.data(), sizeof(h));
    return static_cast<size_t>(h) & mask_;
  }

  void Rehash(size_t capacity) {  // capacity: a power of two
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const Slot& s : old) {
      if (s.leaf_plus_one != 0) Insert(s.key, s.leaf_plus_one - 1);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace medhub::ledger
