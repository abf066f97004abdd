#include "ledger/entry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ed25519.h"
#include "core/hash.h"
#include "ledger/test_util.h"

namespace medhub::ledger {
namespace {

RecordFields SampleRecord() {
  RecordFields r;
  r.seq = 0x0102030405060708;
  r.type = "Observation";
  r.id = "obs-1";
  r.version = 3;
  r.institution = "hospital-a";
  r.commitment.fill(0xCD);
  return r;
}

std::vector<Entry> SampleEntries() {
  const std::string key = PrivateKey::Generate().value().public_key().Raw();
  RecordFields consent = SampleRecord();
  consent.type = "Consent";
  RecordFields deleted = SampleRecord();
  deleted.deleted = true;
  deleted.commitment = DeletedCommitment();
  AccessLogged access{"hospital-a", {}};
  access.audit_event_hash.fill(0x11);
  return {RecordCommitted{SampleRecord()}, ConsentChanged{consent},
          RecordCommitted{deleted},        access,
          MemberAdded{"hospital-a", key},  KeyRotated{"hospital-a", key}};
}

TEST(LedgerEntryTest, ARecordEntryEncodesAsTheDocumentedBytes) {
  const std::string bytes = EncodeEntry(RecordCommitted{SampleRecord()}).value();
  const std::string want = std::string("\x01\x01", 2) + "\x01\x02\x03\x04\x05\x06\x07\x08" +
                           std::string("\x00\x0b", 2) + "Observation" + std::string("\x00\x05", 2) +
                           "obs-1" + std::string("\x00\x00\x00\x00\x00\x00\x00\x03", 8) +
                           std::string("\x00", 1) + std::string("\x00\x0a", 2) + "hospital-a" +
                           std::string(32, '\xCD');
  EXPECT_EQ(ToHex(bytes), ToHex(want));
}

TEST(LedgerEntryTest, EveryKindRoundTripsThroughItsCanonicalBytes) {
  for (const Entry& entry : SampleEntries()) {
    Result<std::string> bytes = EncodeEntry(entry);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(static_cast<uint8_t>((*bytes)[1]), static_cast<uint8_t>(EntryKindOf(entry)));
    Result<Entry> back = DecodeEntry(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, entry);
  }
}

TEST(LedgerEntryTest, DecodingRejectsEveryTruncationAndTrailingByteAsDataLoss) {
  for (const Entry& entry : SampleEntries()) {
    const std::string bytes = EncodeEntry(entry).value();
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_EQ(DecodeEntry(bytes.substr(0, n)).status().code(), StatusCode::kDataLoss) << n;
    }
    EXPECT_EQ(DecodeEntry(bytes + "x").status().code(), StatusCode::kDataLoss);
  }
}

TEST(LedgerEntryTest, DecodingRejectsUnknownVersionsKindsAndFlags) {
  const std::string bytes = EncodeEntry(RecordCommitted{SampleRecord()}).value();
  std::string changed = bytes;
  changed[0] = 2;
  EXPECT_EQ(DecodeEntry(changed).status().code(), StatusCode::kDataLoss);
  for (uint8_t kind : {0, 6, 255}) {
    changed = bytes;
    changed[1] = static_cast<char>(kind);
    EXPECT_EQ(DecodeEntry(changed).status().code(), StatusCode::kDataLoss) << int{kind};
  }
  changed = bytes;
  changed[2 + 8 + 13 + 7 + 8] = 0x02;  // the flags byte: only bit 0 is defined
  EXPECT_EQ(DecodeEntry(changed).status().code(), StatusCode::kDataLoss);
  changed = bytes;
  changed[1] = static_cast<char>(EntryKind::kConsentChanged);  // an Observation as a consent
  EXPECT_EQ(DecodeEntry(changed).status().code(), StatusCode::kDataLoss);
}

TEST(LedgerEntryTest, EncodingRejectsEntriesThatBreakARule) {
  auto rejected = [](const Entry& e) {
    return EncodeEntry(e).status().code() == StatusCode::kInvalidArgument;
  };
  RecordFields r = SampleRecord();
  r.seq = 0;
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  r = SampleRecord();
  r.version = 0;
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  r = SampleRecord();
  r.id = "has space";
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  r = SampleRecord();
  r.type = "observation";
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  r = SampleRecord();
  r.institution = "";
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  r = SampleRecord();
  r.type = "Consent";
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  EXPECT_TRUE(rejected(ConsentChanged{SampleRecord()}));
  r = SampleRecord();
  r.deleted = true;  // a delete marker with a content commitment
  EXPECT_TRUE(rejected(RecordCommitted{r}));
  EXPECT_TRUE(rejected(MemberAdded{"a", std::string(31, 'k')}));
  EXPECT_TRUE(rejected(KeyRotated{"bad name", std::string(32, 'k')}));
}

TEST(LedgerEntryTest, ARecordCommitsToTheSaltAndTheCanonicalBytes) {
  store::StoredResource v;
  v.type = "Patient";
  v.id = "p1";
  v.version = 2;
  v.seq = 7;
  v.json = R"({"resourceType":"Patient","id":"p1"})";
  v.salt = std::string(32, '\x5A');
  Result<Entry> entry = MakeRecordEntry(v, "local");
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  ASSERT_EQ(EntryKindOf(*entry), EntryKind::kRecordCommitted);
  const RecordFields* r = AsRecord(*entry);
  EXPECT_EQ(r->commitment, Sha256(v.salt + v.json));
  EXPECT_EQ(r->seq, 7u);
  EXPECT_EQ(r->institution, "local");
  // The salt matters: the same bytes under another salt commit differently.
  v.salt[0] = 'x';
  EXPECT_NE(AsRecord(MakeRecordEntry(v, "local").value())->commitment, r->commitment);
  v.salt = "short";
  EXPECT_EQ(MakeRecordEntry(v, "local").status().code(), StatusCode::kInvalidArgument);
}

TEST(LedgerEntryTest, ConsentVersionsBecomeConsentChangedAndDeletesCommitToZeros) {
  store::StoredResource v;
  v.type = "Consent";
  v.id = "c1";
  v.version = 1;
  v.seq = 1;
  v.json = "{}";
  v.salt = std::string(32, '\x01');
  EXPECT_EQ(EntryKindOf(MakeRecordEntry(v, "local").value()), EntryKind::kConsentChanged);
  v.deleted = true;
  v.json.clear();
  v.salt = std::string(32, '\0');
  const Entry deleted = MakeRecordEntry(v, "local").value();
  EXPECT_TRUE(AsRecord(deleted)->deleted);
  EXPECT_EQ(AsRecord(deleted)->commitment, Sha256(std::string(32, '\0')));
  EXPECT_EQ(DeletedCommitment(), Sha256(std::string(32, '\0')));
}

TEST(LedgerEntryTest, RecordNamesAreVreadPaths) {
  EXPECT_EQ(RecordName("Patient", "p1", 3), "Patient/p1/_history/3");
}

}  // namespace
}  // namespace medhub::ledger
