#include "ledger/record_index.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/hash.h"

namespace medhub::ledger {
namespace {

RecordKey Key(uint64_t i) {
  const Sha256Digest d = Sha256("record " + std::to_string(i));
  RecordKey k;
  std::memcpy(k.data(), d.data(), k.size());
  return k;
}

TEST(LedgerRecordIndexTest, FindsEveryInsertedKeyThroughManyRehashes) {
  RecordIndex index;
  EXPECT_FALSE(index.Find(Key(0)).has_value());
  for (uint64_t i = 0; i < 100000; ++i) ASSERT_TRUE(index.Insert(Key(i), i * 3));
  EXPECT_EQ(index.size(), 100000u);
  for (uint64_t i = 0; i < 100000; ++i) ASSERT_EQ(index.Find(Key(i)), i * 3);
  for (uint64_t i = 100000; i < 101000; ++i) ASSERT_FALSE(index.Contains(Key(i)));
}

TEST(LedgerRecordIndexTest, ADuplicateKeyIsRefusedAndKeepsItsLeaf) {
  RecordIndex index;
  index.Reserve(10);
  ASSERT_TRUE(index.Insert(Key(1), 0));
  EXPECT_FALSE(index.Insert(Key(1), 7));
  EXPECT_EQ(index.Find(Key(1)), 0u);
  EXPECT_EQ(index.size(), 1u);
}

TEST(LedgerRecordIndexTest, KeysThatShareTheirHomeSlotAreAllFound) {
  RecordIndex index;
  for (uint64_t i = 0; i < 8; ++i) {
    RecordKey k{};  // the same first 8 bytes: one home slot, a probe chain
    k[15] = static_cast<uint8_t>(i);
    ASSERT_TRUE(index.Insert(k, i));
  }
  for (uint64_t i = 0; i < 8; ++i) {
    RecordKey k{};
    k[15] = static_cast<uint8_t>(i);
    EXPECT_EQ(index.Find(k), i);
  }
}

}  // namespace
}  // namespace medhub::ledger
