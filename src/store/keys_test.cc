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
  EXPECT_EQ(refs.size(),
            (index.size() - 17 + 2) + (compartment.size() - 17 + 2) + (foreign.size() + 5));
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

TEST(KeysTest, WellKnownSystemsAreWrittenAsATagAndReadBackAsText) {
  using namespace std::string_literals;
  const auto* code = fhir::FindSearchParam("Observation", "code");
  fhir::IndexValue t{code, "8480-6", "http://loinc.org", {}, 0};
  EXPECT_EQ(IndexKey("Observation", t, "o1"), "Observation\0code\0"s + "8480-6\0\1\3\0o1"s);
  // A prefix of the table (the longest one wins) keeps the rest of the system as text.
  t.system = "http://terminology.hl7.org/CodeSystem/observation-category";
  std::string k = IndexKey("Observation", t, "o1");
  EXPECT_EQ(k, "Observation\0code\08480-6\0\1\7observation-category\0o1"s);
  EXPECT_EQ(DecodeIndexKey(k, *code)->system, t.system);
  t.system = "http://hl7.org/fhir/sid/cvx";  // both http://hl7.org/fhir/ and .../sid/ match
  k = IndexKey("Observation", t, "o1");
  EXPECT_EQ(k, "Observation\0code\08480-6\0\1\10cvx\0o1"s);
  EXPECT_EQ(DecodeIndexKey(k, *code)->system, t.system);
  EXPECT_TRUE(IsTabledSystem("http://snomed.info/sct"));
  EXPECT_FALSE(IsTabledSystem("https://example.org/codes"));
  EXPECT_FALSE(IsTabledSystem(""));
  // The format-4 text of a tabled system reads the same.
  auto old = DecodeIndexKey("Observation\0code\08480-6\0http://loinc.org\0o1"s, *code);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->system, "http://loinc.org");
  EXPECT_EQ(old->id, "o1");
  // A tag byte past the table is malformed.
  EXPECT_FALSE(DecodeIndexKey("Observation\0code\08480-6\0\1\xf0\0o1"s, *code));
}

TEST(KeysTest, LowerCaseUuidIdsEndAKeyAsSixteenBytesAndOtherIdsAsText) {
  const auto* code = fhir::FindSearchParam("Observation", "code");
  fhir::IndexValue t{code, "8480-6", "http://loinc.org", {}, 0};
  const std::string uuid = "0b5f08d2-74c1-4380-918f-96aec5e4fdf5";
  const std::string k = IndexKey("Observation", t, uuid);
  EXPECT_EQ(k.size(), IndexKey("Observation", t, "").size() + kPackedIdSize);
  EXPECT_EQ(k.substr(k.size() - kPackedIdSize, 3), std::string("\1\x0b\x5f", 3));
  EXPECT_EQ(DecodeIndexKey(k, *code)->id, uuid);
  for (const std::string other :
       {"0B5F08D2-74C1-4380-918F-96AEC5E4FDF5", "0b5f08d2-74c1-4380-918f-96aec5e4fdf",
        "0b5f08d2x74c1-4380-918f-96aec5e4fdf5", "obs-1"}) {
    const std::string o = IndexKey("Observation", t, other);
    EXPECT_TRUE(o.ends_with(other)) << other;
    EXPECT_EQ(DecodeIndexKey(o, *code)->id, other);
  }
  // The key ref of a packed id is short ('J') and reads back whole.
  std::string refs;
  AppendKeyRef(&refs, 'i', k, "Observation", uuid);
  EXPECT_EQ(refs[0], 'J');
  EXPECT_EQ(refs.size(), 2 + k.size() - 12 - kPackedIdSize);
  bool ok = false;
  EXPECT_EQ(Refs(refs, "Observation", uuid, &ok), std::vector<std::string>{"i" + k});
  EXPECT_TRUE(ok);
  Refs(refs, "Observation", "obs-1", &ok);  // a 'J' ref of a resource whose id is no UUID
  EXPECT_FALSE(ok);
}

TEST(KeysTest, ReferencesToUuidIdsArePackedAndOthersStayText) {
  using namespace std::string_literals;
  const auto* subject = fhir::FindSearchParam("Observation", "subject");
  const std::string uuid = "0b5f08d2-74c1-4380-918f-96aec5e4fdf5";
  fhir::IndexValue r{subject, "Patient/" + uuid, "", {}, 0};
  std::string k = IndexKey("Observation", r, "o1");
  EXPECT_EQ(k.substr(0, 31), "Observation\0subject\0Patient/\1\xff\x0b"s);
  EXPECT_EQ(k.size(), 20 + 8 + 2 + 16 + 1 + 2);
  auto d = DecodeIndexKey(k, *subject);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->value, r.value);
  EXPECT_EQ(d->id, "o1");
  EXPECT_TRUE(IsPackedReference(r.value));
  const std::vector<std::string> texts = {"Patient/p1", "Patient/" + uuid + "x", "Pa-tient/" + uuid,
                                          "/" + uuid,   "http://x.org/" + uuid,  uuid};
  for (const std::string& text : texts) {
    EXPECT_FALSE(IsPackedReference(text)) << text;
    r.value = text;
    k = IndexKey("Observation", r, "o1");
    std::string esc;
    AppendEscaped(&esc, text);
    EXPECT_EQ(k, "Observation\0subject\0"s + esc + "o1");
    EXPECT_EQ(DecodeIndexKey(k, *subject)->value, text);
  }
  // A packed UUID cut short is malformed.
  EXPECT_FALSE(DecodeIndexKey("Observation\0subject\0Patient/\1\xff\x0b\x5f"s, *subject));
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

TEST(KeysTest, KeysBuiltInOneBufferEqualTheKeysBuiltAlone) {
  const auto* code = fhir::FindSearchParam("Observation", "code");
  const auto* subject = fhir::FindSearchParam("Observation", "subject");
  const std::string uuid = "0b6bd6a5-5d2e-4cf1-9d2b-8a0c2f0f0a11";
  const IndexId id(uuid);
  KeyList list;
  std::vector<std::string> alone;
  for (int i = 0; i < 200; ++i) {  // enough to move the buffer several times
    fhir::IndexValue v{i % 2 ? code : subject,
                       i % 2 ? std::to_string(i) : "Patient/" + uuid,
                       i % 2 ? "http://loinc.org" : "",
                       {},
                       0};
    AppendIndexKey(list.Begin(), "Observation", fhir::AsRef(v), id);
    alone.push_back(IndexKey("Observation", v, uuid));
    AppendCompartmentKey(list.Begin(), "p" + std::to_string(i), i, "Observation", uuid);
    alone.push_back(CompartmentKey("p" + std::to_string(i), i, "Observation", uuid));
  }
  ASSERT_EQ(list.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_EQ(list[i], alone[i]) << i;
}

TEST(KeysTest, AppendedRecordsEqualTheEncodedOnes) {
  const CurrentRecord c{7, false, 123, 99, std::string(32, 'h'), "refs"};
  std::string out = "x";
  AppendCurrent(&out, c);
  EXPECT_EQ(out, "x" + EncodeCurrent(c));
  out = "x";
  AppendResourceHeader(&out, kFlagPlaintext, -3, 5, "p/1");
  EXPECT_EQ(out, "x" + EncodeResourceHeader(kFlagPlaintext, -3, 5, "p/1"));
  out = "x";
  AppendChange(&out, "Patient", "p1", 3, true, 77);
  EXPECT_EQ(out, "x" + EncodeChange("Patient", "p1", 3, true, 77));
  const std::string encoded = EncodeChange("Patient", "p1", 3, true, 77);
  auto change = DecodeChange(encoded);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->id, "p1");
  EXPECT_EQ(change->version, 3u);
  out = "x";
  AppendResourceKey(&out, "Patient", "p1", 3);
  EXPECT_EQ(out, "x" + ResourceKey("Patient", "p1", 3));
  out = "x";
  AppendTypeHistoryKey(&out, "Patient", 9);
  EXPECT_EQ(out, "x" + TypeHistoryKey("Patient", 9));
}

}  // namespace
}  // namespace medhub::store::keys
