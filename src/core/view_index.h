// ViewIndex: string views -> indexes (of the items the views belong to), for at most a
// count of keys known up front: open addressing with linear probing in a power-of-two
// table at most half full, no allocation per key. The transaction's fullUrl lookup, the
// store's "same resource earlier in this commit" and the table of resource types use it.
//
// The viewed bytes must outlive the index. Thread safety: a plain value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace medhub {

class ViewIndex {
 public:
  static constexpr size_t kNone = SIZE_MAX;

  // Room for `max_keys` keys; Insert must not be called for more.
  explicit ViewIndex(size_t max_keys) {
    size_t capacity = 16;
    while (capacity < 2 * max_keys) capacity *= 2;
    slots_.resize(capacity);
  }
  // Adds key -> value unless the key is there already; returns the key's value (`value`
  // when it was added, the earlier one otherwise).
  size_t Insert(std::string_view key, size_t value) {
    Slot& s = slots_[SlotOf(key)];
    if (s.value == kNone) s = Slot{key, value};
    return s.value;
  }
  // The key's value, or kNone.
  size_t Find(std::string_view key) const { return slots_[SlotOf(key)].value; }

 private:
  struct Slot {
    std::string_view key;
    size_t value = kNone;
  };
  // The key's slot, or the free slot where it would go.
  size_t SlotOf(std::string_view key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = std::hash<std::string_view>()(key) & mask;
    while (slots_[i].value != kNone && slots_[i].key != key) i = (i + 1) & mask;
    return i;
  }
  std::vector<Slot> slots_;
};

}  // namespace medhub
