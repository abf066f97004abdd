// SortWrites (bulk_sort.h): the order a bulk-load chunk's writes are written in.
#include "store/bulk_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/bulk_load.h"

namespace medhub::store {
namespace {

// The writes of `keys`, in that order, their keys copied into `arena`.
std::vector<BulkWrite> WritesOf(const std::vector<std::string>& keys, BulkArena* arena) {
  std::vector<BulkWrite> w;
  for (const std::string& k : keys)
    w.push_back({arena->Append(k), nullptr, static_cast<uint32_t>(k.size()), 0, false});
  return w;
}

// Checks SortWrites against a stable sort by whole keys.
void ExpectSortedLikeStableSort(const std::vector<std::string>& keys) {
  BulkArena arena;
  const std::vector<BulkWrite> w = WritesOf(keys, &arena);
  std::vector<uint32_t> order;
  std::vector<uint8_t> same;
  SortWrites(w, &order, &same);
  std::vector<uint32_t> expected(keys.size());
  for (uint32_t i = 0; i < expected.size(); ++i) expected[i] = i;
  std::stable_sort(expected.begin(), expected.end(),
                   [&keys](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  ASSERT_EQ(order, expected);
  ASSERT_EQ(same.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool next_same = i + 1 < keys.size() && keys[order[i]] == keys[order[i + 1]];
    ASSERT_EQ(same[i] != 0, next_same) << "at " << i << ": " << keys[order[i]];
  }
}

TEST(BulkSortTest, ManyKeysWithLongSharedPrefixesAndRepeatsSortLikeAStableSort) {
  uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64
  auto rnd = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  const std::vector<std::string> types = {"Observation", "Observatio", "Condition", "Encounter",
                                          "O", ""};
  for (size_t n : {0u, 1u, 15u, 17u, 255u, 256u, 3000u, 40000u}) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < n; ++i) {
      std::string k = types[rnd(types.size())];
      k.push_back('\0');
      k += rnd(2) ? "code" : "date";
      k.push_back('\0');
      if (rnd(3) == 0) k += "http://loinc.org|";
      k += std::to_string(rnd(50));
      if (rnd(4)) {
        k.push_back('\0');
        k += std::string(rnd(20), static_cast<char>('a' + rnd(3)));
      }
      if (rnd(7) == 0) k.push_back(static_cast<char>(rnd(256)));  // bytes above 0x7f too
      keys.push_back(std::move(k));
    }
    ExpectSortedLikeStableSort(keys);
  }
}

TEST(BulkSortTest, KeysThatArePrefixesOfOthersAndZeroBytesSortBeforeTheirExtensions) {
  std::vector<std::string> keys;
  for (int round = 0; round < 40; ++round) {
    for (const std::string& k :
         {std::string("abcdefgh"), std::string("abcdefgh\0", 9), std::string("abcdefg"),
          std::string("abcdefgh\0\0", 10), std::string("abcdefghi"), std::string(""),
          std::string("\0", 1), std::string("abcdefghabcdefgh"), std::string("abcdefghabcdefg")})
      keys.push_back(k);
  }
  ExpectSortedLikeStableSort(keys);
}

}  // namespace
}  // namespace medhub::store
