#include "core/aead.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/hash.h"

namespace medhub {
namespace {

const std::string kKey = RandomBytes(kAeadKeySize);

TEST(AeadTest, SealThenOpenRoundTripsWithTheSameAssociatedData) {
  const std::string env = AeadSeal(kKey, "Jane Smith, SSN 999-12-3456", "Patient/1");
  EXPECT_EQ(env.size(), kAeadOverhead + 27);
  EXPECT_EQ(static_cast<unsigned char>(env[0]), kAeadVersion);
  EXPECT_EQ(env.find("Smith"), std::string::npos);
  auto plain = AeadOpen(kKey, env, "Patient/1");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "Jane Smith, SSN 999-12-3456");
}

TEST(AeadTest, EverySealUsesAFreshNonce) {
  EXPECT_NE(AeadSeal(kKey, "same", "aad"), AeadSeal(kKey, "same", "aad"));
}

TEST(AeadTest, EmptyPlaintextAndEmptyAssociatedDataWork) {
  auto plain = AeadOpen(kKey, AeadSeal(kKey, "", ""), "");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "");
}

TEST(AeadTest, AChangedCiphertextNonceTagOrAadIsDataLoss) {
  const std::string env = AeadSeal(kKey, "clinical content", "Observation/7");
  for (size_t i = 1; i < env.size(); ++i) {  // every byte of nonce, ciphertext and tag
    std::string bad = env;
    bad[i] ^= 0x01;
    EXPECT_EQ(AeadOpen(kKey, bad, "Observation/7").status().code(), StatusCode::kDataLoss)
        << "byte " << i;
  }
  EXPECT_EQ(AeadOpen(kKey, env, "Observation/8").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, env, "").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, env.substr(0, env.size() - 1), "Observation/7").status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(kKey, env.substr(0, 10), "Observation/7").status().code(),
            StatusCode::kDataLoss);
}

TEST(AeadTest, TheWrongKeyOrAnUnknownVersionIsDataLoss) {
  const std::string env = AeadSeal(kKey, "x", "a");
  EXPECT_EQ(AeadOpen(RandomBytes(kAeadKeySize), env, "a").status().code(), StatusCode::kDataLoss);
  std::string v2 = env;
  v2[0] = 2;
  EXPECT_EQ(AeadOpen(kKey, v2, "a").status().code(), StatusCode::kDataLoss);
}

TEST(AeadTest, APartsSealUnderAGivenNonceMatchesTheGcmSpecTestCase14) {
  // McGrew-Viega GCM spec, test case 14: AES-256, zero key, zero nonce, 16 zero bytes.
  const std::string key(kAeadKeySize, '\0'), nonce(kAeadNonceSize, '\0'), half(8, '\0');
  std::string env = "header";
  AeadSealPartsTo(key, nonce, {half, "", half}, "", &env);
  EXPECT_EQ(ToHex(env), ToHex("header") + "01" + ToHex(nonce) +
                            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  auto plain = AeadOpen(key, std::string_view(env).substr(6), "");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, half + half);
}

TEST(AeadTest, SealsAndOpensUnderAlternatingKeysEachOpenOnlyUnderTheirOwnKey) {
  const std::string other = RandomBytes(kAeadKeySize);
  std::vector<std::string> envs;
  for (int i = 0; i < 6; ++i)
    envs.push_back(AeadSeal(i % 2 == 0 ? kKey : other, "message " + std::to_string(i), "aad"));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 6; ++i) {
      const std::string& mine = i % 2 == 0 ? kKey : other;
      const std::string& wrong = i % 2 == 0 ? other : kKey;
      EXPECT_EQ(AeadOpen(wrong, envs[i], "aad").status().code(), StatusCode::kDataLoss);
      auto plain = AeadOpen(mine, envs[i], "aad");
      ASSERT_TRUE(plain.ok()) << i << ": " << plain.status().message();
      EXPECT_EQ(*plain, "message " + std::to_string(i));
    }
  }
}

TEST(AeadTest, HmacOfPartsEqualsHmacOfTheirConcatenation) {
  EXPECT_EQ(HmacSha256Of("Jefe", {"what do ya ", "", "want for nothing?"}),
            HmacSha256("Jefe", "what do ya want for nothing?"));
  EXPECT_EQ(HmacSha256Of(kKey, {}), HmacSha256(kKey, ""));
}

TEST(AeadTest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AeadTest, KeyTextIsHexOrBase64Of32Bytes) {
  const std::string key = RandomBytes(32);
  auto hex = ParseKeyText("  " + ToHex(key) + "\n");
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex, key);
  auto b64 = ParseKeyText(ToBase64(key) + "\n");
  ASSERT_TRUE(b64.ok());
  EXPECT_EQ(*b64, key);
  EXPECT_EQ(ToBase64("foob"), "Zm9vYg==");
  for (std::string_view bad : {"", "abc", "zz", "00ff", "not base64 at all!"})
    EXPECT_EQ(ParseKeyText(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  EXPECT_FALSE(ParseKeyText(ToBase64(RandomBytes(16))).ok());
}

TEST(AeadTest, WipeZeroesAndClears) {
  std::string s = "secret";
  Wipe(&s);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace medhub
