#include "core/hash.h"

#include <gtest/gtest.h>

namespace medhub {
namespace {

TEST(HashTest, Sha256MatchesTheFips180Vectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, HashingPartsEqualsHashingTheirConcatenation) {
  EXPECT_EQ(Sha256Of({"a", "", "bc"}), Sha256("abc"));
}

TEST(HashTest, RandomBytesHaveTheRequestedSizeAndDiffer) {
  const std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(RandomBytes(0).empty());
}

}  // namespace
}  // namespace medhub
