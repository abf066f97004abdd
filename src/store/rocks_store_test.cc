#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <thread>

#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "store/keys.h"
#include "store/raw_db_test_util.h"
#include "store/store.h"
#include "store/test_util.h"

namespace medhub::store {
namespace {

class RocksStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("medhub-store-test-" + NewId());
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = OpenRocksStore({dir_.string()});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  static WriteOp Put(std::string_view body) { return testing::PutOp(body); }
  WriteOutcome Commit1(WriteOp op) { return testing::CommitOne(*store_, std::move(op)); }
  std::vector<std::string> Search(std::string_view type,
                                  std::vector<std::pair<std::string, std::string>> params) {
    return testing::SearchIds(*store_, type, params);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

constexpr char kPatient[] =
    R"({"resourceType":"Patient","id":"p1","name":[{"family":"Smith","given":["Ann"]}],"gender":"female","birthDate":"1950-03-04"})";

std::string Obs(std::string_view id, std::string_view code, std::string_view when, int value) {
  return std::string(R"({"resourceType":"Observation","id":")") + std::string(id) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         std::string(code) + R"("}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":")" +
         std::string(when) + R"(","valueQuantity":{"value":)" + std::to_string(value) +
         R"(,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})";
}

TEST_F(RocksStoreTest, PutsMakeVersionsWithServerMetaAndIdenticalContentMakesNone) {
  WriteOutcome a = Commit1(Put(kPatient));
  EXPECT_TRUE(a.created);
  EXPECT_EQ(a.version, 1u);
  EXPECT_NE(a.json.find(R"("meta":{"versionId":"1","lastUpdated":")"), std::string::npos);
  WriteOutcome same = Commit1(Put(kPatient));
  EXPECT_TRUE(same.unchanged);
  EXPECT_EQ(same.version, 1u);
  EXPECT_EQ(same.json, a.json);
  std::string changed = kPatient;
  changed.replace(changed.find("Ann"), 3, "Anna");
  WriteOutcome b = Commit1(Put(changed));
  EXPECT_FALSE(b.created);
  EXPECT_EQ(b.version, 2u);
  EXPECT_GT(b.last_updated, a.last_updated);
  EXPECT_GT(b.seq, a.seq);
  auto cur = store_->Read("Patient", "p1");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, 2u);
  EXPECT_EQ(cur->json, b.json);
  auto v1 = store_->ReadVersion("Patient", "p1", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->json, a.json);
  // Every version has its own random salt (the ledger's commitment salt).
  EXPECT_EQ(v1->salt.size(), 32u);
  EXPECT_NE(v1->salt, cur->salt);
  EXPECT_EQ(store_->ReadVersion("Patient", "p1", 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Read("Patient", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(RocksStoreTest, AWriteThatDoesNotWantTheJsonStoresTheSameBytesAndReturnsNone) {
  for (const bool plaintext : {false, true}) {
    SCOPED_TRACE(plaintext ? "plaintext store" : "encrypted store");
    StoreOptions o;
    o.path = (dir_ / (plaintext ? "plain" : "sealed")).string();
    o.plaintext_for_benchmarks = plaintext;
    auto opened = OpenRocksStore(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    WriteOp op = Put(kPatient);
    op.want_json = false;
    const WriteOutcome a = Commit1(std::move(op));
    EXPECT_TRUE(a.created);
    EXPECT_EQ(a.version, 1u);
    EXPECT_TRUE(a.json.empty());
    // What a write that wants the json returns (here: identical content, read back).
    const WriteOutcome same = Commit1(Put(kPatient));
    EXPECT_TRUE(same.unchanged);
    EXPECT_EQ(same.json, store_->Read("Patient", "p1").value().json);
    EXPECT_NE(same.json.find(R"("meta":{"versionId":"1","lastUpdated":")" +
                             FormatInstant(a.last_updated) + R"("},"name")"),
              std::string::npos);
    op = Put(kPatient);
    op.want_json = false;
    EXPECT_TRUE(Commit1(std::move(op)).json.empty());  // unchanged: not read back either
    std::string changed = kPatient;
    changed.replace(changed.find("Ann"), 3, "Anna");
    const WriteOutcome b = Commit1(Put(changed));  // wants it: rendered from the same pieces
    EXPECT_EQ(b.json, store_->Read("Patient", "p1").value().json);
    store_.reset();
  }
}

TEST_F(RocksStoreTest, ReadManyReturnsEachCurrentVersionInTheOrderAsked) {
  Commit1(Put(kPatient));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 121)));
  auto r = store_->ReadMany({{"Observation", "o1"}, {"Patient", "nope"}, {"Patient", "p1"}});
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[0].ok());
  EXPECT_EQ(r[0]->version, 2u);
  EXPECT_NE(r[0]->json.find("121"), std::string::npos);
  EXPECT_EQ(r[0]->salt.size(), 32u);
  EXPECT_EQ(r[1].status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(r[2].ok());
  EXPECT_EQ(r[2]->id, "p1");
}

TEST_F(RocksStoreTest, DeleteLeavesAMarkerAndRemovesTheResourceFromSearch) {
  Commit1(Put(kPatient));
  WriteOp del;
  del.kind = WriteOp::Kind::kDelete;
  del.type = "Patient";
  del.id = "p1";
  WriteOutcome d = Commit1(del);
  EXPECT_TRUE(d.existed);
  EXPECT_EQ(d.version, 2u);
  auto cur = store_->Read("Patient", "p1");
  ASSERT_TRUE(cur.ok());
  EXPECT_TRUE(cur->deleted);
  EXPECT_TRUE(Search("Patient", {{"family", "smith"}}).empty());
  WriteOutcome again = Commit1(del);
  EXPECT_FALSE(again.existed);
  // A put after a delete brings the resource back as version 3.
  WriteOutcome back = Commit1(Put(kPatient));
  EXPECT_TRUE(back.created);
  EXPECT_EQ(back.version, 3u);
}

TEST_F(RocksStoreTest, OneCommitWritingAResourceSeveralTimesMakesAVersionForEachChange) {
  Commit1(Put(kPatient));
  std::vector<WriteOp> ops;
  ops.push_back(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  ops.push_back(Put(Obs("o2", "8462-4", "2020-01-01T00:00:00Z", 80)));
  ops.push_back(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));  // unchanged
  ops.push_back(Put(Obs("o1", "1234-5", "2020-01-01T00:00:00Z", 121)));
  WriteOp gone;
  gone.kind = WriteOp::Kind::kDelete;
  gone.type = "Observation";
  gone.id = "o2";
  ops.push_back(std::move(gone));
  auto r = store_->Commit(std::move(ops));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].version, 1u);
  EXPECT_EQ((*r)[1].version, 1u);
  EXPECT_TRUE((*r)[2].unchanged);
  EXPECT_EQ((*r)[2].version, 1u);
  EXPECT_EQ((*r)[3].version, 2u);
  EXPECT_FALSE((*r)[3].created);
  EXPECT_EQ((*r)[4].version, 2u);
  EXPECT_TRUE((*r)[4].existed);
  // Only the last version's index keys remain; the deleted resource has none.
  EXPECT_EQ(Search("Observation", {{"code", "http://loinc.org|1234-5"}}),
            std::vector<std::string>{"o1"});
  EXPECT_TRUE(Search("Observation", {{"code", "http://loinc.org|8480-6"}}).empty());
  EXPECT_TRUE(Search("Observation", {{"code", "http://loinc.org|8462-4"}}).empty());
  EXPECT_EQ(Search("Observation", {{"patient", "p1"}}), std::vector<std::string>{"o1"});
  auto o1 = store_->Read("Observation", "o1");
  ASSERT_TRUE(o1.ok());
  EXPECT_EQ(o1->version, 2u);
  EXPECT_NE(o1->json.find("1234-5"), std::string::npos);
  auto o2 = store_->Read("Observation", "o2");
  ASSERT_TRUE(o2.ok());
  EXPECT_TRUE(o2->deleted);
  EXPECT_EQ(o2->version, 2u);
}

TEST_F(RocksStoreTest, FailedPreconditionsLeaveTheStoreUnchanged) {
  Commit1(Put(kPatient));
  const uint64_t seq = store_->LastSequence();
  std::vector<WriteOp> ops;
  ops.push_back(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  WriteOp stale = Put(kPatient);
  stale.if_match = 7;
  ops.push_back(std::move(stale));
  auto r = store_->Commit(std::move(ops));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->LastSequence(), seq);
  EXPECT_EQ(store_->Read("Observation", "o1").status().code(), StatusCode::kNotFound);
  WriteOp dup = Put(kPatient);
  dup.create_only = true;
  std::vector<WriteOp> one;
  one.push_back(std::move(dup));
  EXPECT_EQ(store_->Commit(std::move(one)).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(RocksStoreTest, HistoryIsNewestFirstAtEveryLevelAndHonoursSince) {
  Commit1(Put(kPatient));
  auto first = Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 121)));
  auto inst = store_->History({"Observation", "o1"});
  ASSERT_TRUE(inst.ok());
  ASSERT_EQ(inst->versions.size(), 2u);
  EXPECT_EQ(inst->versions[0].version, 2u);
  auto type = store_->History({"Observation", ""});
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(type->total, 2u);
  auto all = store_->History({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 3u);
  EXPECT_EQ(all->versions.front().type, "Observation");
  EXPECT_EQ(all->versions.back().type, "Patient");
  HistoryQuery since;
  since.since = first.last_updated;
  auto recent = store_->History(since);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->total, 2u);
  HistoryQuery paged;
  paged.offset = 1;
  paged.limit = 1;
  auto page = store_->History(paged);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3u);
  ASSERT_EQ(page->versions.size(), 1u);
  EXPECT_EQ(page->versions[0].version, 1u);
}

TEST_F(RocksStoreTest, SearchByTokenReferenceDateQuantityAndString) {
  Commit1(Put(kPatient));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  Commit1(Put(Obs("o2", "8480-6", "2021-06-01T00:00:00Z", 150)));
  Commit1(Put(Obs("o3", "8462-4", "2021-06-01T00:00:00Z", 80)));
  using V = std::vector<std::string>;
  EXPECT_EQ(Search("Observation", {{"code", "8480-6"}}), (V{"o1", "o2"}));
  EXPECT_EQ(Search("Observation", {{"code", "http://loinc.org|8462-4"}}), (V{"o3"}));
  EXPECT_EQ(Search("Observation", {{"code", "http://other|8462-4"}}), V{});
  EXPECT_EQ(Search("Observation", {{"patient", "p1"}, {"code", "8480-6"}, {"date", "ge2021"}}),
            (V{"o2"}));
  EXPECT_EQ(Search("Observation", {{"date", "lt2021-01-01"}}), (V{"o1"}));
  EXPECT_EQ(Search("Observation", {{"value-quantity", "gt100"}}), (V{"o1", "o2"}));
  EXPECT_EQ(Search("Observation", {{"value-quantity", "150||mm[Hg]"}}), (V{"o2"}));
  EXPECT_EQ(Search("Observation", {{"patient", "p1"}, {"_sort", "-date"}, {"code", "8480-6"}}),
            (V{"o2", "o1"}));
  EXPECT_EQ(Search("Observation", {{"code:not", "8480-6"}}), (V{"o3"}));
  EXPECT_EQ(Search("Patient", {{"name", "SMI"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"family:exact", "Smith"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"family:exact", "smith"}}), V{});
  EXPECT_EQ(Search("Patient", {{"family:contains", "mit"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"birthdate", "1950"}, {"gender", "female"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"_id", "p1,zz"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {{"identifier:missing", "true"}}), (V{"p1"}));
  EXPECT_EQ(Search("Patient", {}), (V{"p1"}));
}

TEST_F(RocksStoreTest, UpdatesReplaceTheOldIndexValues) {
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  Commit1(Put(Obs("o1", "8462-4", "2020-01-01T00:00:00Z", 120)));
  EXPECT_TRUE(Search("Observation", {{"code", "8480-6"}}).empty());
  EXPECT_EQ(Search("Observation", {{"code", "8462-4"}}), std::vector<std::string>{"o1"});
}

TEST_F(RocksStoreTest, CompartmentListsAPatientsRecordsInClinicalTimeOrder) {
  Commit1(Put(kPatient));
  Commit1(Put(Obs("late", "8480-6", "2022-01-01T00:00:00Z", 1)));
  Commit1(Put(Obs("early", "8480-6", "2001-01-01T00:00:00Z", 1)));
  auto c = store_->Compartment("p1");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].id, "early");
  EXPECT_EQ((*c)[1].id, "late");
}

TEST_F(RocksStoreTest, EverythingSurvivesReopenAndTheChangeFeedContinues) {
  Commit1(Put(kPatient));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01T00:00:00Z", 120)));
  const uint64_t seq = store_->LastSequence();
  Reopen();
  EXPECT_EQ(store_->LastSequence(), seq);
  auto changes = store_->ChangesSince(0, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].type, "Patient");
  EXPECT_EQ((*changes)[1].seq, seq);
  auto o = Commit1(Put(Obs("o2", "8480-6", "2020-01-01T00:00:00Z", 120)));
  EXPECT_EQ(o.seq, seq + 1);
  EXPECT_EQ(store_->ChangesSince(seq, 10)->size(), 1u);
}

TEST_F(RocksStoreTest, LastUpdatedIsIndexedWithTheServersTime) {
  auto a = Commit1(Put(kPatient));
  const std::string t = FormatInstant(a.last_updated);
  EXPECT_EQ(Search("Patient", {{"_lastUpdated", "ge" + t}}), std::vector<std::string>{"p1"});
  EXPECT_EQ(Search("Patient", {{"_lastUpdated", "lt" + t}}), std::vector<std::string>{});
}

TEST_F(RocksStoreTest, ClientMetaIsKeptButVersionAndTimeAreTheServers) {
  auto a =
      Commit1(Put(R"({"resourceType":"Patient","id":"m1","meta":{"versionId":"99",)"
                  R"("lastUpdated":"2000-01-01T00:00:00Z","tag":[{"code":"x"}]},"active":true})"));
  EXPECT_EQ(a.version, 1u);
  EXPECT_EQ(
      a.json.find(R"({"resourceType":"Patient","id":"m1","meta":{"versionId":"1","lastUpdated":")"),
      0u)
      << a.json;
  EXPECT_NE(a.json.find(R"(","tag":[{"code":"x"}]},"active":true})"), std::string::npos) << a.json;
  auto parsed = fhir::ParseResource(a.json);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
}

TEST_F(RocksStoreTest, ConcurrentWritersToOneResourceGetConsecutiveVersions) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::vector<WriteOp> ops;
        ops.push_back(Put(Obs("shared", "8480-6", "2020-01-01T00:00:00Z", t * 1000 + i)));
        ops.push_back(Put(Obs("own" + std::to_string(t), "8480-6", "2020-01-01T00:00:00Z", i)));
        auto r = store_->Commit(std::move(ops));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto cur = store_->Read("Observation", "shared");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, uint64_t{kThreads * kEach});
  auto history = store_->History({"Observation", "shared"});
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->total, size_t{kThreads * kEach});
  // The change feed is contiguous and complete once all commits returned.
  auto changes = store_->ChangesSince(0, 100000);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), size_t{2 * kThreads * kEach});
  for (size_t i = 0; i < changes->size(); ++i) EXPECT_EQ((*changes)[i].seq, i + 1);
  EXPECT_EQ(store_->LastSequence(), changes->size());
}

TEST_F(RocksStoreTest, AFollowerOfTheChangeFeedNeverSkipsAChangeWhileWritersRun) {
  std::atomic<bool> done{false};
  std::vector<uint64_t> seen;
  std::thread follower([&] {
    uint64_t after = 0;
    while (true) {
      const bool last_round = done.load();
      auto batch = store_->ChangesSince(after, 1000);
      ASSERT_TRUE(batch.ok());
      for (const auto& c : *batch) {
        seen.push_back(c.seq);
        after = c.seq;
      }
      if (last_round && batch->empty()) break;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i)
        Commit1(Put(Obs("w" + std::to_string(t) + "-" + std::to_string(i), "8480-6",
                        "2020-01-01T00:00:00Z", i)));
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  follower.join();
  ASSERT_EQ(seen.size(), 120u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

TEST_F(RocksStoreTest, AReadOnlyOpenSeesTheDataBesideAWriterAndRefusesCommits) {
  Commit1(Put(kPatient));
  StoreOptions ro;
  ro.path = dir_.string();
  ro.read_only = true;
  auto reader = OpenRocksStore(ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->Read("Patient", "p1").ok());
  EXPECT_EQ((*reader)->LastSequence(), store_->LastSequence());
  std::vector<WriteOp> ops;
  ops.push_back(Put(kPatient));
  EXPECT_EQ((*reader)->Commit(std::move(ops)).status().code(), StatusCode::kFailedPrecondition);
  ro.path = (dir_ / "missing").string();
  EXPECT_EQ(OpenRocksStore(ro).status().code(), StatusCode::kNotFound);
}

TEST_F(RocksStoreTest, RecordsAreWrittenAtomicallyScannedByPrefixAndSurviveReopen) {
  ASSERT_TRUE(
      store_->PutRecords({{"account/alice", "a"}, {"account/bob", "b"}, {"other", "x"}}).ok());
  ASSERT_TRUE(store_->PutRecords({{"account/bob", std::nullopt}}).ok());
  Reopen();
  auto a = store_->GetRecord("account/alice");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(**a, "a");
  EXPECT_FALSE(store_->GetRecord("account/bob")->has_value());
  auto scan = store_->ScanRecords("account/");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].first, "account/alice");
  EXPECT_EQ(store_->PutRecords({{"", "x"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LastSequence(), 0u);  // records are not FHIR changes
}

TEST_F(RocksStoreTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  auto second = OpenRocksStore({dir_.string()});
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

// Rewrites every current record's key refs in the long form of format 3 and marks the
// directory format 3; returns how many bytes the long form added.
size_t MakeFormatThree(const std::filesystem::path& dir) {
  testing::RawStoreDb raw(dir.string());
  rocksdb::DB* db = raw.db();
  rocksdb::ColumnFamilyHandle* current = raw.cf(keys::kCurrent);
  size_t added = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, current));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key = it->key().ToString(), value = it->value().ToString();
      const size_t nul = key.find('\0');
      std::string v = value.substr(0, keys::kCurrentFixedSize);
      EXPECT_TRUE(keys::ForEachKeyRef(keys::CurrentKeyRefs(value), key.substr(0, nul),
                                      key.substr(nul + 1), [&](char tag, std::string_view k) {
                                        v.push_back(tag);
                                        for (int shift = 24; shift >= 0; shift -= 8)
                                          v.push_back(static_cast<char>(k.size() >> shift));
                                        v.append(k);
                                      }));
      added += v.size() - value.size();
      EXPECT_TRUE(db->Put({}, current, key, v).ok());
    }
  }
  raw.SetFormat(3);
  return added;
}

TEST_F(RocksStoreTest, AFormatThreeDirectoryIsReadAsItIsAndItsLongKeyRefsAreReplacedOnUpdate) {
  Commit1(Put(kPatient));
  Commit1(Put(Obs("o1", "8480-6", "2020-01-01", 120)));
  Commit1(Put(Obs("o2", "8462-4", "2021-01-01", 80)));
  store_.reset();
  EXPECT_GT(MakeFormatThree(dir_), 3u * 17) << "format 4 wrote the short refs";
  StoreOptions ro{dir_.string()};
  ro.read_only = true;
  {
    auto old = OpenRocksStore(ro);
    ASSERT_TRUE(old.ok()) << old.status().ToString();  // format 3 is read without migration
    auto ids = (*old)->Search(*fhir::ParseSearchQuery(
        "Observation", {{"patient", "p1"}, {"_sort", "-date"}, {"code", "8480-6,8462-4"}}));
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, (std::vector<std::string>{"o2", "o1"}));
  }
  Reopen();  // opened for writing: marked format 4
  Commit1(Put(Obs("o1", "2339-0", "2022-01-01", 5)));  // the refs of version 1 are long
  EXPECT_TRUE(Search("Observation", {{"code", "8480-6"}}).empty());
  EXPECT_EQ(Search("Observation", {{"code", "2339-0"}}), std::vector<std::string>{"o1"});
  EXPECT_EQ(Search("Observation", {{"patient", "p1"}, {"_sort", "date"}}),
            (std::vector<std::string>{"o2", "o1"}));
  WriteOp del;
  del.kind = WriteOp::Kind::kDelete;
  del.type = "Observation";
  del.id = "o2";
  Commit1(std::move(del));
  EXPECT_TRUE(Search("Observation", {{"code", "8462-4"}}).empty());
  auto compartment = store_->Compartment("p1");
  ASSERT_TRUE(compartment.ok());
  ASSERT_EQ(compartment->size(), 1u);
  EXPECT_EQ(compartment->front().id, "o1");
  store_.reset();
  EXPECT_GT(MakeFormatThree(dir_), 0u) << "the new version of o1 wrote short refs";
}

}  // namespace
}  // namespace medhub::store
