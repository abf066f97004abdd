#include "store/keys.h"

#include <gtest/gtest.h>

namespace medhub::store::keys {
namespace {

TEST(KeysTest, IndexKeysRoundTripEveryParameterType) {
  const auto* code = fhir::FindSearchParam("Observation", "code");
  const auto* date = fhir::FindSearchParam("Observation", "date");
  const auto* qty = fhir::FindSearchParam("Observation", "value-quantity");
  fhir::IndexValue t{code, std::string("a\0b\1c", 5), "http://loinc.org", {}, 0};
  auto d = DecodeIndexKey(IndexKey("Observation", t, "o1"), *code);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->value, t.value);
  EXPECT_EQ(d->system, "http://loinc.org");
  EXPECT_EQ(d->id, "o1");
  fhir::IndexValue dv{date, "", "", {-5, 77}, 0};
  d = DecodeIndexKey(IndexKey("Observation", dv, "o2"), *date);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->range, (DateRange{-5, 77}));
  fhir::IndexValue q{qty, "mm[Hg]", "http://unitsofmeasure.org", {}, -12.5};
  d = DecodeIndexKey(IndexKey("Observation", q, "o3"), *qty);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->number, -12.5);
  EXPECT_EQ(d->value, "mm[Hg]");
  EXPECT_EQ(IndexKeyParam(IndexKey("Observation", q, "o3")), "value-quantity");
}

TEST(KeysTest, IndexKeyBytesEscapeZeroAndOneBytesWhereverTheyStand) {
  using namespace std::string_literals;
  const auto* code = fhir::FindSearchParam("Observation", "code");
  fhir::IndexValue t{code, "\0a\0b\1c\1"s, "sys"s, {}, 0};
  EXPECT_EQ(IndexKey("Observation", t, "o1"), "Observation\0code\0\1\1a\1\1b\1\2c\1\2\0sys\0o1"s);
  t.value = "plain";
  t.system = "";
  EXPECT_EQ(IndexKey("Observation", t, "o1"), "Observation\0code\0plain\0\0o1"s);
}

TEST(KeysTest, NumbersAndDatesSortBytewiseInNumericOrder) {
  const auto* qty = fhir::FindSearchParam("Observation", "value-quantity");
  std::vector<double> values = {-1e9, -2.5, -0.0, 0.0, 1e-9, 3, 1e12};
  std::string prev;
  for (double v : values) {
    fhir::IndexValue iv{qty, "", "", {}, v};
    std::string k = IndexKey("Observation", iv, "x");
    EXPECT_LE(prev, k) << v;
    prev = k;
  }
}

TEST(KeysTest, RecordsRoundTripAndRejectTruncation) {
  CurrentRecord c{7, true, -3, 99, std::string(32, 'h'), "refs"};
  auto back = DecodeCurrent(EncodeCurrent(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->version, 7u);
  EXPECT_TRUE(back->deleted);
  EXPECT_EQ(back->last_updated, -3);
  EXPECT_EQ(back->seq, 99u);
  EXPECT_EQ(back->key_refs, "refs");
  EXPECT_EQ(CurrentKeyRefs(EncodeCurrent(c)), "refs");
  EXPECT_FALSE(DecodeCurrent(EncodeCurrent(c).substr(0, 56)));
  const std::string encoded = EncodeChange("Patient", "p1", 3, false, 123);
  auto change = DecodeChange(encoded);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->type, "Patient");
  EXPECT_EQ(change->id, "p1");
  EXPECT_EQ(change->version, 3u);
  EXPECT_EQ(change->last_updated, 123);
  EXPECT_FALSE(DecodeChange("garbage"));
  std::string refs;
  AppendKeyRef(&refs, 'i', "k1");
  AppendKeyRef(&refs, 'c', std::string("k\0 2", 4));
  EXPECT_EQ(refs, std::string("i\0\0\0\2k1c\0\0\0\4k\0 2", 16));  // tag, u32 length, key
  std::string long_ref;
  AppendKeyRef(&long_ref, 'i', std::string(0x10203, 'x'));
  EXPECT_EQ(long_ref.substr(0, 5), std::string("i\0\1\2\3", 5));
  std::vector<std::string> seen;
  EXPECT_TRUE(ForEachKeyRef(refs, [&](char tag, std::string_view k) {
    seen.push_back(std::string(1, tag) + std::string(k));
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"ik1", std::string("ck\0 2", 5)}));
  EXPECT_FALSE(ForEachKeyRef(refs.substr(0, refs.size() - 1), [](char, std::string_view) {}));
}

}  // namespace
}  // namespace medhub::store::keys
