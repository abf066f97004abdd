// Format 5's search-index keys (tagged systems, packed UUID ids, no _lastUpdated keys)
// beside the format-4 keys an older medhub wrote: both are read, and updates replace them.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>

#include "core/ids.h"
#include "core/time.h"
#include "fhir/device_reading.h"
#include "store/keys.h"
#include "store/raw_db_test_util.h"
#include "store/store.h"
#include "store/test_util.h"

namespace medhub::store {
namespace {

// The key format 4 wrote for a decoded format-5 index key: systems and ids as text.
std::string FormatFourKey(std::string_view type, const fhir::SearchParamDef& p,
                          const keys::DecodedIndexKey& d) {
  std::string k = keys::IndexParamPrefix(type, p.name);
  switch (p.type) {
    case fhir::ParamType::kToken:
      keys::AppendEscaped(&k, d.value);
      keys::AppendEscaped(&k, d.system);
      break;
    case fhir::ParamType::kString:
    case fhir::ParamType::kReference:
      keys::AppendEscaped(&k, d.value);
      break;
    case fhir::ParamType::kDate:
      PutOrderedInt64(&k, d.range.low);
      PutOrderedInt64(&k, d.range.high);
      break;
    case fhir::ParamType::kQuantity:
      keys::AppendOrderedDouble(&k, d.number);
      keys::AppendEscaped(&k, d.value);
      keys::AppendEscaped(&k, d.system);
      break;
  }
  return k.append(d.id);
}

// Rewrites every index key of the store as format 4 wrote it (adding each resource's
// `_lastUpdated` key), with format 4's key refs, and marks the directory format 4.
// Returns how many index keys changed.
size_t MakeFormatFour(const std::filesystem::path& dir) {
  testing::RawStoreDb raw(dir.string());
  rocksdb::DB* db = raw.db();
  auto cf = [&raw](std::string_view name) { return raw.cf(name); };
  const fhir::SearchParamDef* last_updated = fhir::FindSearchParam("", "_lastUpdated");
  size_t changed = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, cf(keys::kCurrent)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString(), value = it->value().ToString();
    const std::string type = key.substr(0, key.find('\0')), id = key.substr(type.size() + 1);
    auto cur = keys::DecodeCurrent(value);
    EXPECT_TRUE(cur);
    if (!cur || cur->deleted) continue;
    std::string refs;
    rocksdb::WriteBatch batch;
    EXPECT_TRUE(keys::ForEachKeyRef(cur->key_refs, type, id, [&](char tag, std::string_view k) {
      if (tag == 'c') return keys::AppendKeyRef(&refs, tag, k, type, id);
      const auto* p = fhir::FindSearchParam(type, keys::IndexKeyParam(k));
      EXPECT_NE(p, nullptr);
      auto d = keys::DecodeIndexKey(k, *p);
      EXPECT_TRUE(d);
      const std::string old = FormatFourKey(type, *p, *d);
      changed += old != k;
      EXPECT_TRUE(batch.Delete(cf(keys::kIndex), k).ok());
      EXPECT_TRUE(batch.Put(cf(keys::kIndex), old, "").ok());
      keys::AppendKeyRef(&refs, 'i', old, type, id);
    }));
    keys::DecodedIndexKey updated;
    updated.range = {cur->last_updated, cur->last_updated + 1};
    updated.id = id;
    const std::string lu = FormatFourKey(type, *last_updated, updated);
    EXPECT_TRUE(batch.Put(cf(keys::kIndex), lu, "").ok());
    keys::AppendKeyRef(&refs, 'i', lu, type, id);
    ++changed;
    cur->key_refs = refs;
    EXPECT_TRUE(batch.Put(cf(keys::kCurrent), key, keys::EncodeCurrent(*cur)).ok());
    EXPECT_TRUE(db->Write({}, &batch).ok());
  }
  it.reset();
  raw.SetFormat(4);
  return changed;
}

class StoreFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-format-test-" + NewId());
    Open(false);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(bool read_only) {
    store_.reset();
    StoreOptions o{dir_.string()};
    o.read_only = read_only;
    auto s = OpenRocksStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  WriteOutcome Commit1(std::string_view body) {
    return testing::CommitOne(*store_, testing::PutOp(body));
  }
  std::vector<std::string> Search(std::string_view type,
                                  std::vector<std::pair<std::string, std::string>> params) {
    return testing::SearchIds(*store_, type, params);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

const char kPat[] = "5e0c1f5a-8d3b-4c4e-9f00-2b7b8a1d0c01";

std::string Patient() {
  return std::string(R"({"resourceType":"Patient","id":")") + kPat +
         R"(","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.3.25","value":"S999"}],)"
         R"("name":[{"family":"Smith","given":["Ann"]}],"gender":"female"})";
}

std::string Obs(std::string_view id, std::string_view code, std::string_view category,
                std::string_view when, int value) {
  return std::string(R"({"resourceType":"Observation","id":")") + std::string(id) +
         R"(","status":"final","category":[{"coding":[{"system":)"
         R"("http://terminology.hl7.org/CodeSystem/observation-category","code":")" +
         std::string(category) +
         R"("}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" + std::string(code) +
         R"("},{"system":"https://example.org/local","code":")" + std::string(code) +
         R"("}]},"subject":{"reference":"Patient/)" + kPat + R"("},"effectiveDateTime":")" +
         std::string(when) + R"(","valueQuantity":{"value":)" + std::to_string(value) +
         R"(,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})";
}

using Ids = std::vector<std::string>;
using Params = std::vector<std::pair<std::string, std::string>>;

// Searches whose answers must not depend on the format of the keys.
std::vector<std::pair<std::string, Params>> Queries(const std::string& t1, const std::string& t2) {
  return {
      {"Observation", {{"code", "http://loinc.org|8480-6"}}},
      {"Observation", {{"code", "8480-6"}}},
      {"Observation", {{"code", "https://example.org/local|8462-4"}}},
      {"Observation", {{"code", "http://snomed.info/sct|8480-6"}}},
      {"Observation", {{"code", "|8480-6"}}},
      {"Observation", {{"code", "http://loinc.org|"}}},
      {"Observation",
       {{"category", "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}}},
      {"Observation", {{"category", "laboratory"}, {"code:not", "http://loinc.org|2339-0"}}},
      {"Observation", {{"value-quantity", "gt90|http://unitsofmeasure.org|mm[Hg]"}}},
      {"Observation", {{"patient", kPat}, {"_sort", "-date"}}},
      {"Observation", {{"subject", std::string("Patient/") + kPat}, {"date", "ge2021"}}},
      {"Observation", {{"_lastUpdated", "ge" + t1}}},
      {"Observation", {{"_lastUpdated", "lt" + t1}}},
      {"Observation", {{"_lastUpdated", "eq" + t2}}},
      {"Observation", {{"_lastUpdated", "ne" + t2}}},
      {"Observation", {{"_lastUpdated", "gt" + t1 + ",le" + t2}}},
      {"Observation", {{"_lastUpdated:missing", "false"}, {"_sort", "-_lastUpdated"}}},
      {"Observation", {{"code", "8480-6,8462-4,2339-0"}, {"_sort", "_lastUpdated"}}},
      {"Observation", {{"code", "8480-6,8462-4,2339-0"}, {"_lastUpdated", "lt" + t2}}},
      {"Patient", {{"identifier", "urn:oid:2.16.840.1.113883.4.3.25|S999"}}},
      {"Patient", {{"family", "smi"}, {"_lastUpdated", "ge" + t1}}},
  };
}

TEST_F(StoreFormatTest, AFormatFourDirectoryAnswersEverySearchLikeFormatFiveBeforeAndAfterUpdates) {
  Commit1(Patient());
  const std::string o1 = NewId(), o2 = NewId();
  Commit1(Obs(o1, "8480-6", "vital-signs", "2020-01-01", 120));
  const WriteOutcome second = Commit1(Obs("obs-2", "8462-4", "laboratory", "2021-01-01", 80));
  Commit1(Obs(o2, "2339-0", "laboratory", "2022-01-01", 95));
  const std::string t1 = FormatInstant(second.last_updated), t2 = t1;
  const auto queries = Queries(t1, t2);
  std::vector<Ids> fresh;
  for (const auto& [type, params] : queries) fresh.push_back(Search(type, params));
  EXPECT_EQ(fresh[0], Ids{o1});
  EXPECT_EQ(fresh[11].size(), 2u);  // obs-2 and o2
  EXPECT_EQ(fresh[16].size(), 3u);
  EXPECT_EQ(fresh[16][0], o2);  // newest first
  EXPECT_EQ(fresh[19], Ids{kPat});

  store_.reset();
  EXPECT_GT(MakeFormatFour(dir_), 4u);
  Open(/*read_only=*/true);  // read as it is
  for (size_t i = 0; i < queries.size(); ++i)
    EXPECT_EQ(Search(queries[i].first, queries[i].second), fresh[i]) << "format 4, query " << i;

  for (int reopen = 0; reopen < 2; ++reopen) {
    Open(/*read_only=*/false);  // marked format 5; old keys stay until rewritten
    for (size_t i = 0; i < queries.size(); ++i)
      EXPECT_EQ(Search(queries[i].first, queries[i].second), fresh[i])
          << "reopened " << reopen << ", query " << i;
  }
  // An update replaces o1's format-4 keys; a new resource writes format 5 beside them.
  const WriteOutcome moved = Commit1(Obs(o1, "2339-0", "laboratory", "2023-01-01", 99));
  const std::string o3 = NewId();
  Commit1(Obs(o3, "8480-6", "vital-signs", "2024-01-01", 130));
  EXPECT_EQ(Search("Observation", {{"code", "http://loinc.org|8480-6"}}), Ids{o3});
  EXPECT_EQ(Search("Observation", {{"code", "http://loinc.org|2339-0"}}),
            (Ids{std::min(o1, o2), std::max(o1, o2)}));
  EXPECT_EQ(Search("Observation", {{"category", "vital-signs"}}), Ids{o3});
  EXPECT_EQ(Search("Observation",
                   {{"_lastUpdated", "ge" + FormatInstant(moved.last_updated)},
                    {"_sort", "-_lastUpdated"}}),
            (Ids{o3, o1}));
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "le" + t2}, {"_sort", "_lastUpdated"}}),
            Ids{"obs-2"});
  EXPECT_EQ(Search("Observation", {{"value-quantity", "gt96"}, {"_sort", "date"}}),
            (Ids{o1, o3}));
  const Ids all = {std::min(o1, o3), std::max(o1, o3)};  // o2 and obs-2 still have text keys
  Ids mixed = Search("Observation", {{"patient", kPat}});
  EXPECT_EQ(mixed.size(), 4u);
  EXPECT_EQ(Search("Observation", {{"subject", std::string("Patient/") + kPat},
                                   {"_lastUpdated", "ge" + FormatInstant(moved.last_updated)}}),
            all);
}

TEST_F(StoreFormatTest, LastUpdatedSearchesFollowTheCurrentVersionsThroughUpdatesAndDeletes) {
  std::vector<std::string> ids;
  std::vector<int64_t> times;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(NewId());
    times.push_back(Commit1(Obs(ids.back(), "8480-6", "vital-signs", "2020-01-01", i))
                        .last_updated);
  }
  const int64_t first = times[0];
  // Every fifth is updated (its time moves to the end), one is deleted.
  for (int i = 0; i < 40; i += 5)
    times[i] = Commit1(Obs(ids[i], "8480-6", "vital-signs", "2020-01-01", 1000 + i)).last_updated;
  std::vector<WriteOp> del(1);
  del[0].kind = WriteOp::Kind::kDelete;
  del[0].type = "Observation";
  del[0].id = ids[7];
  ASSERT_TRUE(store_->Commit(std::move(del)).ok());
  auto expect = [&](auto pred) {
    Ids out;
    for (size_t i = 0; i < ids.size(); ++i)
      if (i != 7 && pred(times[i])) out.push_back(ids[i]);
    std::sort(out.begin(), out.end());
    return out;
  };
  const int64_t mid = times[20];  // a time of a version that is still current
  const std::string at = FormatInstant(mid);
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "ge" + at}}),
            expect([&](int64_t t) { return t >= mid; }));
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "gt" + at}}),
            expect([&](int64_t t) { return t > mid; }));
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "lt" + at}}),
            expect([&](int64_t t) { return t < mid; }));
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "eq" + at}}), Ids{ids[20]});
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "ne" + at}}),
            expect([&](int64_t t) { return t != mid; }));
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "lt" + FormatInstant(first)}}), Ids{});
  EXPECT_EQ(Search("Observation", {{"_lastUpdated", "le" + FormatInstant(first)}}), Ids{});
  Ids newest_first = Search("Observation", {{"_sort", "-_lastUpdated"}, {"code", "8480-6"}});
  ASSERT_EQ(newest_first.size(), 39u);
  EXPECT_EQ(newest_first[0], ids[35]);
  EXPECT_EQ(newest_first[1], ids[30]);
}

TEST_F(StoreFormatTest, LastUpdatedSearchesBisectPastBatchesOfDeviceReadingsInTheTypeHistory) {
  Commit1(Patient());
  Ids before, after;
  for (int i = 0; i < 5; ++i) {
    before.push_back(NewId());
    Commit1(Obs(before.back(), "8480-6", "vital-signs", "2020-01-01", i));
  }
  fhir::Reading r;
  r.seq = 1;
  r.kind = fhir::ReadingKind::kHeartRate;
  r.values = {"72"};
  r.unit = "/min";
  r.time = "2020-01-02T00:00:00Z";
  ASSERT_TRUE(store_->CommitReadings({"watch", kPat, {r}}).ok());
  int64_t mid = 0;
  for (int i = 0; i < 5; ++i) {
    after.push_back(NewId());
    const int64_t t =
        Commit1(Obs(after.back(), "8480-6", "vital-signs", "2020-01-01", 10 + i)).last_updated;
    if (i == 0) mid = t;
  }
  r.seq = 2;
  ASSERT_TRUE(store_->CommitReadings({"watch", kPat, {r}}).ok());
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  const Ids later = Search("Observation", {{"_lastUpdated", "ge" + FormatInstant(mid)}});
  Ids main_ids, readings;
  for (const std::string& id : later) (id.starts_with("rd") ? readings : main_ids).push_back(id);
  EXPECT_EQ(main_ids, after);
  EXPECT_EQ(readings.size(), 1u);  // the second batch, committed after `mid`
  const Ids earlier = Search("Observation", {{"_lastUpdated", "lt" + FormatInstant(mid)}});
  main_ids.clear();
  readings.clear();
  for (const std::string& id : earlier) (id.starts_with("rd") ? readings : main_ids).push_back(id);
  EXPECT_EQ(main_ids, before);
  EXPECT_EQ(readings.size(), 1u);
}

}  // namespace
}  // namespace medhub::store
