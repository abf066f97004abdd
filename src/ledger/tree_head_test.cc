#include "ledger/tree_head.h"

#include <gtest/gtest.h>

#include <string>

#include "core/ed25519.h"
#include "core/hash.h"

namespace medhub::ledger {
namespace {

TreeHead SampleHead() {
  TreeHead head;
  head.tree_size = 0x0102030405060708;
  head.root = HashLeaf("root");
  head.timestamp_us = -1234567;
  head.signer = "hospital-a.example";
  return head;
}

TEST(LedgerTreeHeadTest, EncodingIsTheDocumentedByteLayout) {
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

TEST(LedgerTreeHeadTest, RoundTripsThroughEncodeAndDecode) {
  const TreeHead head = SampleHead();
  const std::string bytes = EncodeTreeHead(head).value();
  Result<TreeHead> back = DecodeTreeHead(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, head);
}

TEST(LedgerTreeHeadTest, DecodingRejectsEveryMalformedEncodingAsDataLoss) {
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

TEST(LedgerTreeHeadTest, SignerNamesMustBePrintableAsciiOfOneTo255Bytes) {
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

TEST(LedgerTreeHeadTest, SignedTreeHeadsVerifyAndRoundTrip) {
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

TEST(LedgerTreeHeadTest, AnyChangedFieldOrSignatureBitFailsVerification) {
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
