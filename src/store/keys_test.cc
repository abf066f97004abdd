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
  std::string long_refs;  // keys not of Patient/p1's shape: whole, tag + u32 length + key
  AppendKeyRef(&long_refs, 'i', "k1", "Patient", "p1");
  AppendKeyRef(&long_refs, 'c', std::string("k\0 2", 4), "Patient", "p1");
  EXPECT_EQ(long_refs, std::string("i\0\0\0\2k1c\0\0\0\4k\0 2", 16));
  std::string long_ref;
  AppendKeyRef(&long_ref, 'i', std::string(0x10203, 'x'), "Patient", "p1");
  EXPECT_EQ(long_ref.substr(0, 5), std::string("i\0\1\2\3", 5));
}

std::vector<std::string> Refs(std::string_view refs, std::string_view type, std::string_view id,
                              bool* ok) {
  std::vector<std::string> seen;
  *ok = ForEachKeyRef(refs, type, id, [&](char tag, std::string_view k) {
    seen.push_back(std::string(1, tag) + std::string(k));
  });
  return seen;
}

TEST(KeysTest, KeyRefsOfTheResourceItselfAreStoredWithoutItsTypeAndIdAndReadBackWhole) {
  fhir::IndexValue code;
  code.param = fhir::FindSearchParam("Observation", "code");
  ASSERT_NE(code.param, nullptr);
  code.value = "8480-6";
  code.system = "http://loinc.org";
  const std::string index = IndexKey("Observation", code, "obs-1");
  const std::string compartment = CompartmentKey("pat-1", 1234, "Observation", "obs-1");
  const std::string foreign = std::string("Patient\0name\0x\0", 15) + "obs-1";
  std::string refs;
  AppendKeyRef(&refs, 'i', index, "Observation", "obs-1");
  AppendKeyRef(&refs, 'c', compartment, "Observation", "obs-1");
  AppendKeyRef(&refs, 'i', foreign, "Observation", "obs-1");  // another type: kept whole
  EXPECT_EQ(refs.size(), (index.size() - 17 + 2) + (compartment.size() - 17 + 2) +
                             (foreign.size() + 5));
  bool ok = false;
  EXPECT_EQ(Refs(refs, "Observation", "obs-1", &ok),
            (std::vector<std::string>{"i" + index, "c" + compartment, "i" + foreign}));
  EXPECT_TRUE(ok);
  for (size_t cut = 1; cut < refs.size(); ++cut) {
    if (cut == index.size() - 15 || cut == index.size() - 15 + compartment.size() - 15)
      continue;  // ends between two refs: a shorter list, not a malformed one
    Refs(refs.substr(0, cut), "Observation", "obs-1", &ok);
    EXPECT_FALSE(ok) << cut;
  }
}

TEST(KeysTest, KeyRefsOfFormat3AreReadAsTheyAre) {
  // tag, u32 length, whole key: what format 3 wrote for every ref.
  const std::string refs = std::string("i\0\0\0\2k1c\0\0\0\4k\0 2", 16);
  bool ok = false;
  EXPECT_EQ(Refs(refs, "Patient", "p1", &ok),
            (std::vector<std::string>{"ik1", std::string("ck\0 2", 5)}));
  EXPECT_TRUE(ok);
  Refs(refs.substr(0, refs.size() - 1), "Patient", "p1", &ok);
  EXPECT_FALSE(ok);
  Refs("x", "Patient", "p1", &ok);  // an unknown tag
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace medhub::store::keys
