#include "security/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace medhub::security {
namespace {

// RFC 4648 §10 test vectors, without and with padding.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};

TEST(Base64Test, EncodesAndDecodesTheRfc4648VectorsWithoutPadding) {
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, UsesTheUrlSafeAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(*Base64UrlDecode("-_-_"), "\xfb\xff\xbf");
}

TEST(Base64Test, UrlDecodingRejectsPaddingForeignCharactersAndImpossibleLengths) {
  for (const char* bad : {"Zg==", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9vY", "Z", "Zm9v\n"}) {
    auto r = Base64UrlDecode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Base64Test, DecodingRejectsNonCanonicalTrailingBits) {
  // "Zh" and "Zg" would both decode to "f" if the low bits of 'h' were ignored.
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9").ok());
  EXPECT_TRUE(Base64UrlDecode("Zm8").ok());
}

TEST(Base64Test, StandardEncodingPadsAndUsesPlusAndSlash) {
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
}

TEST(Base64Test, StandardDecodingNeedsPaddingAndAcceptsPlusAndSlash) {
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64Decode("+/+/"), "\xfb\xff\xbf");
  for (const char* bad : {"Zm9vYg", "Zm9vYg=", "Zm9vYg===", "Zg=a", "-_-_", "Zh=="}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace medhub::security
