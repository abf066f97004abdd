#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace medhub {
namespace {

TEST(IdsTest, NewIdIsAValidUniqueVersion4Uuid) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_TRUE(IsValidFhirId(id));
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(IdsTest, FhirIdSyntaxIsEnforced) {
  EXPECT_TRUE(IsValidFhirId("a.B-9"));
  EXPECT_FALSE(IsValidFhirId(""));
  EXPECT_FALSE(IsValidFhirId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidFhirId("a/b"));
  EXPECT_FALSE(IsValidFhirId("a b"));
  EXPECT_FALSE(IsValidFhirId("a_b"));
}

TEST(IdsTest, OrderedIntegersSortBytewiseInNumericOrder) {
  std::string a, b, c;
  PutOrderedInt64(&a, -5);
  PutOrderedInt64(&b, 0);
  PutOrderedInt64(&c, 7);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(GetOrderedInt64(a), -5);
  EXPECT_EQ(GetBigEndian64(std::string("\0\0\0\0\0\0\1\2", 8)), 258u);
}

}  // namespace
}  // namespace medhub
