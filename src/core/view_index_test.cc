#include "core/view_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medhub {
namespace {

TEST(ViewIndexTest, TheFirstInsertOfAKeyWinsAndLaterInsertsReturnIt) {
  ViewIndex index(4);
  EXPECT_EQ(index.Insert("Patient/a", 0), 0u);
  EXPECT_EQ(index.Insert("Patient/b", 1), 1u);
  EXPECT_EQ(index.Insert("Patient/a", 2), 0u);
  EXPECT_EQ(index.Find("Patient/a"), 0u);
  EXPECT_EQ(index.Find("Patient/b"), 1u);
  EXPECT_EQ(index.Find("Patient/c"), ViewIndex::kNone);
  EXPECT_EQ(index.Find(""), ViewIndex::kNone);
}

TEST(ViewIndexTest, ManyKeysWithALongCommonPrefixAreAllFoundAtFullCapacity) {
  const size_t n = 1000;
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i)
    keys.push_back("urn:uuid:6f1b1c1e-0000-4000-8000-" + std::to_string(100000000000 + i));
  ViewIndex index(n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(index.Insert(keys[i], i), i);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(index.Find(keys[i]), i);
    EXPECT_EQ(index.Insert(keys[i], n + i), i);
  }
  EXPECT_EQ(index.Find("urn:uuid:6f1b1c1e-0000-4000-8000-"), ViewIndex::kNone);
}

}  // namespace
}  // namespace medhub
