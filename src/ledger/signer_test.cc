#include "ledger/signer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

// RFC 8032 section 7.1, TEST 2: a one-byte message.
constexpr std::string_view kRfc8032Secret =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kRfc8032Public =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfc8032Signature =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

std::string Message() { return "medhub ledger test message"; }

TEST(SignerTest, MatchesTheRfc8032TestVector) {
  Result<PrivateKey> key = PrivateKey::FromHex(kRfc8032Secret);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key().Hex(), kRfc8032Public);
  const std::string message = testing::FromHex("72").value();
  Result<Signature> sig = key->Sign(message);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<const char*>(sig->data()), sig->size())),
            kRfc8032Signature);
  Result<PublicKey> pub = PublicKey::FromHex(kRfc8032Public);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Verify(message, testing::FromHex(kRfc8032Signature).value()).ok());
}

TEST(SignerTest, SignaturesOfAGeneratedKeyVerify) {
  Result<PrivateKey> key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const Signature sig = key->Sign(Message()).value();
  EXPECT_TRUE(key->public_key().Verify(Message(), sig).ok());
  Result<PrivateKey> other = PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key(), key->public_key());
  EXPECT_EQ(other->public_key().Verify(Message(), sig).code(), StatusCode::kDataLoss);
}

TEST(SignerTest, AOneBitChangeInTheMessageOrSignatureIsDataLoss) {
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

TEST(SignerTest, SignatureBytesOfTheWrongLengthAreInvalidArgument) {
  const PrivateKey key = PrivateKey::Generate().value();
  EXPECT_EQ(key.public_key().Verify(Message(), std::string(63, 'x')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(key.public_key().Verify(Message(), std::string(65, 'x')).code(),
            StatusCode::kInvalidArgument);
}

TEST(SignerTest, KeysRoundTripThroughRawHexAndPem) {
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

TEST(SignerTest, MalformedKeysAreInvalidArgument) {
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

TEST(SignerTest, OneKeySignsAndVerifiesFromManyThreadsAtOnce) {
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

TreeHead SampleHead() {
  TreeHead head;
  head.tree_size = 0x0102030405060708;
  head.root = HashLeaf("root");
  head.timestamp_us = -1234567;
  head.signer = "hospital-a.example";
  return head;
}

TEST(TreeHeadTest, EncodingIsTheDocumentedByteLayout) {
  TreeHead head;
  head.tree_size = 0x0102030405060708;
  head.root.fill(0xAB);
  head.timestamp_us = -2;
  head.signer = "node1";
  const std::string bytes = EncodeTreeHead(head).value();
  const std::string want = std::string("MHTH\x01", 5) + "\x01\x02\x03\x04\x05\x06\x07\x08" +
                           std::string(32, '\xAB') + std::string(7, '\xFF') + "\xFE" + "\x05node1";
  EXPECT_EQ(ToHex(bytes), ToHex(want));
  EXPECT_EQ(bytes.size(), 54u + 5u);
}

TEST(TreeHeadTest, RoundTripsThroughEncodeAndDecode) {
  const TreeHead head = SampleHead();
  const std::string bytes = EncodeTreeHead(head).value();
  Result<TreeHead> back = DecodeTreeHead(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, head);
}

TEST(TreeHeadTest, DecodingRejectsEveryMalformedEncodingAsDataLoss) {
  const std::string bytes = EncodeTreeHead(SampleHead()).value();
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeTreeHead(bytes.substr(0, n)).status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeTreeHead(bytes + "x").status().code(), StatusCode::kDataLoss);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_EQ(DecodeTreeHead(bad_magic).status().code(), StatusCode::kDataLoss);
  std::string bad_version = bytes;
  bad_version[4] = 2;
  EXPECT_EQ(DecodeTreeHead(bad_version).status().code(), StatusCode::kDataLoss);
  std::string bad_name = bytes;
  bad_name.back() = ' ';
  EXPECT_EQ(DecodeTreeHead(bad_name).status().code(), StatusCode::kDataLoss);
}

TEST(TreeHeadTest, SignerNamesMustBePrintableAsciiOfOneTo255Bytes) {
  EXPECT_TRUE(IsValidSignerName("a"));
  EXPECT_TRUE(IsValidSignerName(std::string(255, 'a')));
  EXPECT_FALSE(IsValidSignerName(""));
  EXPECT_FALSE(IsValidSignerName(std::string(256, 'a')));
  EXPECT_FALSE(IsValidSignerName("hospital a"));
  EXPECT_FALSE(IsValidSignerName("h\xC3\xB6spital"));
  TreeHead head = SampleHead();
  head.signer = "";
  EXPECT_EQ(EncodeTreeHead(head).status().code(), StatusCode::kInvalidArgument);
}

TEST(TreeHeadTest, SignedTreeHeadsVerifyAndRoundTrip) {
  const PrivateKey key = PrivateKey::Generate().value();
  const SignedTreeHead sth = SignTreeHead(SampleHead(), key).value();
  EXPECT_TRUE(VerifyTreeHead(sth, key.public_key()).ok());
  const std::string wire = EncodeSignedTreeHead(sth).value();
  EXPECT_EQ(wire.size(), EncodeTreeHead(sth.head).value().size() + kEd25519SignatureSize);
  Result<SignedTreeHead> back = DecodeSignedTreeHead(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, sth);
  EXPECT_TRUE(VerifyTreeHead(*back, key.public_key()).ok());
  EXPECT_EQ(DecodeSignedTreeHead(wire.substr(0, 63)).status().code(), StatusCode::kDataLoss);
}

TEST(TreeHeadTest, AnyChangedFieldOrSignatureBitFailsVerification) {
  const PrivateKey key = PrivateKey::Generate().value();
  const SignedTreeHead sth = SignTreeHead(SampleHead(), key).value();
  auto rejected = [&](const SignedTreeHead& changed) {
    return VerifyTreeHead(changed, key.public_key()).code() == StatusCode::kDataLoss;
  };
  SignedTreeHead c = sth;
  c.head.tree_size += 1;
  EXPECT_TRUE(rejected(c));
  c = sth;
  c.head.root[31] ^= 1;
  EXPECT_TRUE(rejected(c));
  c = sth;
  c.head.timestamp_us += 1;
  EXPECT_TRUE(rejected(c));
  c = sth;
  c.head.signer = "hospital-b.example";
  EXPECT_TRUE(rejected(c));
  c = sth;
  c.signature[0] ^= 0x80;
  EXPECT_TRUE(rejected(c));
  const PrivateKey other = PrivateKey::Generate().value();
  EXPECT_EQ(VerifyTreeHead(sth, other.public_key()).code(), StatusCode::kDataLoss);
  // Every bit of the signed bytes matters.
  const std::string wire = EncodeSignedTreeHead(sth).value();
  for (size_t bit = 0; bit < wire.size() * 8; ++bit) {
    std::string changed = wire;
    changed[bit / 8] = static_cast<char>(changed[bit / 8] ^ (1 << (bit % 8)));
    Result<SignedTreeHead> decoded = DecodeSignedTreeHead(changed);
    if (decoded.ok()) {
      EXPECT_EQ(VerifyTreeHead(*decoded, key.public_key()).code(), StatusCode::kDataLoss) << bit;
    }
  }
}

}  // namespace
}  // namespace medhub::ledger
