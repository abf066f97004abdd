#include "core/ed25519.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/hash.h"

namespace medhub {
namespace {

// Strict hex decoding for the test vectors; nullopt on odd length or a non-hex digit.
std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    for (char c : hex.substr(i, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else {
        return std::nullopt;
      }
    }
    out.push_back(static_cast<char>(value));
  }
  return out;
}

// RFC 8032 section 7.1, TEST 2: a one-byte message.
constexpr std::string_view kRfc8032Secret =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kRfc8032Public =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfc8032Signature =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

std::string Message() { return "medhub ledger test message"; }

TEST(Ed25519Test, MatchesTheRfc8032TestVector) {
  Result<PrivateKey> key = PrivateKey::FromHex(kRfc8032Secret);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key().Hex(), kRfc8032Public);
  const std::string message = FromHex("72").value();
  Result<Signature> sig = key->Sign(message);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<const char*>(sig->data()), sig->size())),
            kRfc8032Signature);
  Result<PublicKey> pub = PublicKey::FromHex(kRfc8032Public);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Verify(message, FromHex(kRfc8032Signature).value()).ok());
}

TEST(Ed25519Test, SignaturesOfAGeneratedKeyVerify) {
  Result<PrivateKey> key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const Signature sig = key->Sign(Message()).value();
  EXPECT_TRUE(key->public_key().Verify(Message(), sig).ok());
  Result<PrivateKey> other = PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key(), key->public_key());
  EXPECT_EQ(other->public_key().Verify(Message(), sig).code(), StatusCode::kDataLoss);
}

TEST(Ed25519Test, AOneBitChangeInTheMessageOrSignatureIsDataLoss) {
  const PrivateKey key = PrivateKey::Generate().value();
  const std::string message = Message();
  const Signature sig = key.Sign(message).value();
  for (size_t bit = 0; bit < message.size() * 8; ++bit) {
    std::string changed = message;
    changed[bit / 8] = static_cast<char>(changed[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(key.public_key().Verify(changed, sig).code(), StatusCode::kDataLoss) << bit;
  }
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Signature changed = sig;
    changed[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(key.public_key().Verify(message, changed).code(), StatusCode::kDataLoss) << bit;
  }
  EXPECT_EQ(key.public_key().Verify(message + "x", sig).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(key.public_key().Verify(message, sig).ok());
}

TEST(Ed25519Test, SignatureBytesOfTheWrongLengthAreInvalidArgument) {
  const PrivateKey key = PrivateKey::Generate().value();
  EXPECT_EQ(key.public_key().Verify(Message(), std::string(63, 'x')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(key.public_key().Verify(Message(), std::string(65, 'x')).code(),
            StatusCode::kInvalidArgument);
}

TEST(Ed25519Test, KeysRoundTripThroughRawHexAndPem) {
  const PrivateKey key = PrivateKey::Generate().value();
  const Signature sig = key.Sign(Message()).value();
  ASSERT_EQ(key.Raw().size(), kEd25519KeySize);
  ASSERT_EQ(key.public_key().Raw().size(), kEd25519KeySize);

  for (const Result<PrivateKey>& copy :
       {PrivateKey::FromRaw(key.Raw()), PrivateKey::FromHex(key.Hex()),
        PrivateKey::FromPem(key.Pem())}) {
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_EQ(copy->Raw(), key.Raw());
    EXPECT_EQ(copy->public_key(), key.public_key());
    EXPECT_EQ(copy->Sign(Message()).value(), sig);  // Ed25519 is deterministic
  }
  EXPECT_NE(key.Pem().find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  const PublicKey& pub = key.public_key();
  EXPECT_NE(pub.Pem().find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  for (const Result<PublicKey>& copy :
       {PublicKey::FromRaw(pub.Raw()), PublicKey::FromHex(pub.Hex()),
        PublicKey::FromPem(pub.Pem())}) {
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_EQ(*copy, pub);
    EXPECT_TRUE(copy->Verify(Message(), sig).ok());
  }
}

TEST(Ed25519Test, MalformedKeysAreInvalidArgument) {
  EXPECT_EQ(PrivateKey::FromRaw(std::string(31, 'k')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromRaw(std::string(33, 'k')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromHex("zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromHex(std::string(64, 'g')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem("not a pem").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromPem("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromPem(std::string(1 << 20, 'A')).status().code(),
            StatusCode::kInvalidArgument);
  // A private key's PEM is not a public key and vice versa.
  const PrivateKey key = PrivateKey::Generate().value();
  EXPECT_EQ(PublicKey::FromPem(key.Pem()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem(key.public_key().Pem()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Ed25519Test, OneKeySignsAndVerifiesFromManyThreadsAtOnce) {
  const PrivateKey key = PrivateKey::Generate().value();
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&key, &verified, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string message = std::to_string(t) + "/" + std::to_string(i);
        const Result<Signature> sig = key.Sign(message);
        if (sig.ok() && key.public_key().Verify(message, *sig).ok()) ++verified;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(verified.load(), 800);
}

}  // namespace
}  // namespace medhub
