// The device time-series key space through the Store interface: dedupe, rendering, search,
// compartment, history, change feed, copy on write, erase and the format-2 migration.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>

#include "core/ids.h"
#include "core/json.h"
#include "core/temp_dir.h"
#include "core/time.h"
#include "fhir/reading_codec.h"
#include "fhir/resource.h"
#include "store/keys.h"
#include "store/raw_db_test_util.h"
#include "store/readings_keys.h"
#include "store/store.h"
#include "store/test_util.h"

namespace medhub::store {
namespace {

fhir::Reading HeartRate(uint64_t seq, std::string time, std::string value = "72") {
  fhir::Reading r;
  r.seq = seq;
  r.kind = fhir::ReadingKind::kHeartRate;
  r.values = {std::move(value)};
  r.unit = "/min";
  r.time = std::move(time);
  return r;
}

fhir::Reading BloodPressure(uint64_t seq, std::string time) {
  fhir::Reading r;
  r.seq = seq;
  r.kind = fhir::ReadingKind::kBloodPressure;
  r.values = {"128", "84"};
  r.unit = "mm[Hg]";
  r.time = std::move(time);
  return r;
}

class ReadingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reopen();
    Put(R"({"resourceType":"Patient","id":"p1"})");
    Put(R"({"resourceType":"Patient","id":"p2"})");
  }
  void Reopen() {
    store_.reset();
    auto s = OpenRocksStore({dir_ / "db"});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  WriteOutcome Put(std::string_view body) {
    std::vector<WriteOp> ops;
    ops.push_back(testing::PutOp(body));
    auto out = store_->Commit(std::move(ops));
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->at(0) : WriteOutcome{};
  }
  ReadingsOutcome Ingest(std::string device, std::string patient,
                         std::vector<fhir::Reading> readings) {
    auto out = store_->CommitReadings({std::move(device), std::move(patient), std::move(readings)});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : ReadingsOutcome{};
  }
  std::vector<std::string> Search(std::vector<std::pair<std::string, std::string>> params) {
    auto q = fhir::ParseSearchQuery("Observation", params);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    auto ids = store_->Search(*q);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

constexpr char kT1[] = "2026-11-29T10:00:00Z";
constexpr char kT2[] = "2026-11-29T11:00:00Z";
constexpr char kT3[] = "2026-11-20T09:00:00Z";

TEST_F(ReadingsTest, EachSequenceNumberIsStoredOnceAcrossRetriesAndReopens) {
  auto first = Ingest("cuff", "p1", {HeartRate(1, kT1), HeartRate(2, kT1)});
  EXPECT_EQ(first.stored, (std::vector<uint64_t>{1, 2}));
  auto again = Ingest("cuff", "p1", {HeartRate(1, kT1), HeartRate(2, kT1), HeartRate(3, kT2)});
  EXPECT_EQ(again.stored, std::vector<uint64_t>{3});
  EXPECT_EQ(again.duplicates, (std::vector<uint64_t>{1, 2}));
  Reopen();
  auto after = Ingest("cuff", "p1", {HeartRate(3, kT2), HeartRate(4, kT2)});
  EXPECT_EQ(after.stored, std::vector<uint64_t>{4});
  EXPECT_EQ(after.duplicates, std::vector<uint64_t>{3});
  auto other = Ingest("watch", "p1", {HeartRate(1, kT1)});  // another device, same seq
  EXPECT_EQ(other.stored, std::vector<uint64_t>{1});
  EXPECT_EQ(Search({{"patient", "p1"}}).size(), 5u);
}

TEST_F(ReadingsTest, AReadingReadsAsTheObservationACommitWouldHaveStored) {
  Ingest("cuff", "p1", {BloodPressure(7, kT1)});
  const std::string id = readings::ReadingId(0, 7);
  auto r = store_->Read("Observation", id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->salt.size(), 32u);
  // The same Observation committed the ordinary way, in another store, at the same time.
  testing::TempDir other;
  auto s = OpenRocksStore({other / "db"}).value();
  WriteOp op;
  op.type = "Observation";
  op.id = id;
  op.resource = fhir::ObservationFor(BloodPressure(7, kT1), "cuff", "p1", id);
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  auto committed = s->Commit(std::move(ops));
  ASSERT_TRUE(committed.ok());
  std::string want = committed->at(0).json;
  const std::string stamp = "\"lastUpdated\":\"";
  const size_t at = want.find(stamp) + stamp.size();
  want.replace(at, want.find('"', at) - at, FormatInstant(r->last_updated));
  EXPECT_EQ(r->json, want);
  auto v1 = store_->ReadVersion("Observation", id, 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->json, r->json);
  EXPECT_EQ(v1->salt, r->salt) << "the ledger salt of a reading is stable";
  EXPECT_EQ(store_->ReadVersion("Observation", id, 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Read("Observation", readings::ReadingId(0, 8)).status().code(),
            StatusCode::kNotFound);
  auto many = store_->ReadMany({{"Observation", id}, {"Patient", "p1"}});
  ASSERT_TRUE(many[0].ok());
  EXPECT_EQ(many[0]->json, r->json);
}

TEST_F(ReadingsTest, ReadingsStoredAsFullObservationsBeforeAreDuplicates) {
  WriteOp op;
  op.type = "Observation";
  op.id = fhir::ObservationIdFor("cuff", 5);
  op.resource = fhir::ObservationFor(HeartRate(5, kT1), "cuff", "p1");
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  ASSERT_TRUE(store_->Commit(std::move(ops)).ok());
  auto out = Ingest("cuff", "p1", {HeartRate(5, kT1), HeartRate(6, kT1)});
  EXPECT_EQ(out.stored, std::vector<uint64_t>{6});
  EXPECT_EQ(out.duplicates, std::vector<uint64_t>{5});
  Reopen();  // the device's record remembers to check the old ids
  out = Ingest("cuff", "p1", {HeartRate(5, kT1)});
  EXPECT_EQ(out.duplicates, std::vector<uint64_t>{5});
}

TEST_F(ReadingsTest, SearchByPatientCodeDateAndComponentCodeMergesWithStoredObservations) {
  Ingest("cuff", "p1", {HeartRate(1, kT1), BloodPressure(2, kT2), HeartRate(3, kT3)});
  Ingest("cuff2", "p2", {HeartRate(1, kT1)});
  Put(R"({"resourceType":"Observation","id":"lab","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-11-29T10:30:00Z"})");
  const std::string hr1 = readings::ReadingId(0, 1), bp = readings::ReadingId(0, 2),
                    hr3 = readings::ReadingId(0, 3);
  EXPECT_EQ(Search({{"patient", "p1"}, {"code", "http://loinc.org|8867-4"}}),
            (std::vector<std::string>{"lab", hr1, hr3}));
  EXPECT_EQ(Search({{"patient", "p1"}, {"code", "8867-4"}, {"date", "ge2026-11-29"}}),
            (std::vector<std::string>{"lab", hr1}));
  EXPECT_EQ(Search({{"patient", "p1"}, {"code", "8867-4"}, {"date", "lt2026-11-29"}}),
            std::vector<std::string>{hr3});
  EXPECT_EQ(Search({{"patient", "p1"}, {"date", "2026-11-29"}}),
            (std::vector<std::string>{"lab", hr1, bp}));
  EXPECT_EQ(Search({{"patient", "p1"}, {"date", "2026-11-29T10:00:00Z"}}),
            std::vector<std::string>{hr1});
  EXPECT_EQ(Search({{"patient", "p1"},
                    {"code", "8867-4"},
                    {"date", "ge2026-11-20T09:00:00Z"},
                    {"date", "le2026-11-29T09:00:00Z"}}),
            std::vector<std::string>{hr3});
  EXPECT_EQ(Search({{"patient", "p1"}, {"code", "8867-4"}, {"date", "gt2026-11-29T10:00:00Z"}}),
            std::vector<std::string>{"lab"});
  EXPECT_EQ(Search({{"subject", "Patient/p1"}, {"component-code", "8480-6"}}),
            std::vector<std::string>{bp});
  EXPECT_EQ(Search({{"patient", "p1"}, {"category", "vital-signs"}}),
            (std::vector<std::string>{hr1, bp, hr3}));
  EXPECT_EQ(Search({{"_id", bp}}), std::vector<std::string>{bp});
  EXPECT_EQ(Search({{"code", "8867-4"}}).size(), 4u) << "without a patient: every patient";
  EXPECT_EQ(Search({{"identifier", "urn:medhub:device-reading|cuff/3"}}),
            std::vector<std::string>{hr3});
  EXPECT_EQ(Search({{"patient", "p1"}, {"value-quantity", "gt100"}}).size(), 0u);
  auto sorted = Search({{"patient", "p1"}, {"_sort", "-date"}});
  EXPECT_EQ(sorted, (std::vector<std::string>{bp, "lab", hr1, hr3}));
}

TEST_F(ReadingsTest, ThePatientsCompartmentListsItsReadingsInTimeOrder) {
  Ingest("cuff", "p1", {HeartRate(1, kT2), HeartRate(2, kT3)});
  Put(R"({"resourceType":"Observation","id":"lab","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-11-29T10:30:00Z"})");
  auto c = store_->Compartment("p1");
  ASSERT_TRUE(c.ok());
  std::vector<std::string> ids;
  for (const auto& e : *c) ids.push_back(e.id);
  EXPECT_EQ(
      ids, (std::vector<std::string>{readings::ReadingId(0, 2), "lab", readings::ReadingId(0, 1)}));
  EXPECT_TRUE(store_->Compartment("p2")->empty());
}

TEST_F(ReadingsTest, TheChangeFeedAndHistoryHoldOneVersionPerReading) {
  const uint64_t before = store_->LastSequence();
  Ingest("cuff", "p1", {HeartRate(1, kT1), HeartRate(2, kT1), HeartRate(3, kT1)});
  EXPECT_EQ(store_->LastSequence(), before + 3);
  auto changes = store_->ChangesSince(before, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*changes)[i].seq, before + 1 + i);
    EXPECT_EQ((*changes)[i].id, readings::ReadingId(0, i + 1));
    EXPECT_EQ((*changes)[i].version, 1u);
    auto v = store_->ReadVersion("Observation", (*changes)[i].id, 1);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->seq, (*changes)[i].seq);
  }
  auto middle = store_->ChangesSince(before + 1, 1);  // from inside the batch
  ASSERT_TRUE(middle.ok());
  ASSERT_EQ(middle->size(), 1u);
  EXPECT_EQ(middle->at(0).seq, before + 2);
  Put(R"({"resourceType":"Patient","id":"p3"})");
  EXPECT_EQ(store_->LastSequence(), before + 4);
  Reopen();
  EXPECT_EQ(store_->LastSequence(), before + 4) << "the sequence is recovered past the batch";
  HistoryQuery q;
  q.type = "Observation";
  auto page = store_->History(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->versions.size(), 3u);
  EXPECT_EQ(page->versions[0].id, readings::ReadingId(0, 3)) << "newest first";
  q.limit = 1;
  q.before_seq = before + 3;  // a cursor inside the batch
  page = store_->History(q);
  ASSERT_EQ(page->versions.size(), 1u);
  EXPECT_EQ(page->versions[0].id, readings::ReadingId(0, 2));
  EXPECT_TRUE(page->more);
  HistoryQuery one;
  one.type = "Observation";
  one.id = readings::ReadingId(0, 1);
  page = store_->History(one);
  ASSERT_EQ(page->versions.size(), 1u);
  EXPECT_EQ(page->versions[0].version, 1u);
}

TEST_F(ReadingsTest, AnUpdateThroughCommitWritesVersionTwoAndADeleteHidesTheReading) {
  Ingest("cuff", "p1", {HeartRate(1, kT1), HeartRate(2, kT1)});
  const std::string id = readings::ReadingId(0, 1);
  json::Value obs = fhir::ObservationFor(HeartRate(1, kT1, "75"), "cuff", "p1", id);
  auto updated = Put(json::Serialize(obs));
  EXPECT_EQ(updated.version, 2u);
  EXPECT_FALSE(updated.created);
  EXPECT_NE(store_->Read("Observation", id)->json.find("\"value\":75"), std::string::npos);
  EXPECT_NE(store_->ReadVersion("Observation", id, 1)->json.find("\"value\":72"),
            std::string::npos);
  EXPECT_EQ(Search({{"patient", "p1"}, {"code", "8867-4"}}).size(), 2u) << "listed once";
  WriteOp del;
  del.kind = WriteOp::Kind::kDelete;
  del.type = "Observation";
  del.id = readings::ReadingId(0, 2);
  std::vector<WriteOp> ops;
  ops.push_back(std::move(del));
  ASSERT_TRUE(store_->Commit(std::move(ops)).ok());
  EXPECT_TRUE(store_->Read("Observation", readings::ReadingId(0, 2))->deleted);
  EXPECT_EQ(Search({{"patient", "p1"}}), std::vector<std::string>{id});
  EXPECT_EQ(store_->Compartment("p1")->size(), 1u);
}

// A store holding only readings is not "fresh" for a bulk load: an imported Observation
// with a reading's id updates the reading (found by the reviewer of the 2026-11-30 merge).
TEST(ReadingsBulkTest, AnImportedObservationWithAReadingsIdIsItsVersionTwoInABulkLoad) {
  testing::TempDir dir;
  std::unique_ptr<Store> store = OpenRocksStore({dir / "db"}).value();
  ASSERT_TRUE(store->CommitReadings({"cuff", "p1", {HeartRate(1, kT1)}}).ok());
  const std::string id = readings::ReadingId(0, 1);
  ASSERT_TRUE(store->BeginBulkLoad().ok());
  json::Value obs = fhir::ObservationFor(HeartRate(1, kT1, "75"), "cuff", "p1", id);
  std::vector<WriteOp> ops;
  ops.push_back(testing::PutOp(json::Serialize(obs)));
  auto out = store->Commit(std::move(ops));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(out->at(0).version, 2u);
  EXPECT_FALSE(out->at(0).created);
  EXPECT_NE(store->ReadVersion("Observation", id, 1)->json.find("\"value\":72"),
            std::string::npos);
  EXPECT_NE(store->Read("Observation", id)->json.find("\"value\":75"), std::string::npos);
}

TEST_F(ReadingsTest, ErasingThePatientMakesItsReadingsGoneAndRefusesNewOnes) {
  Ingest("cuff", "p1", {HeartRate(1, kT1), BloodPressure(2, kT1)});
  Ingest("cuff2", "p2", {HeartRate(1, kT1)});
  ASSERT_TRUE(store_->Read("Observation", readings::ReadingId(0, 1)).ok());  // cached
  auto report = store_->ErasePatient("p1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->resources, 3u);  // the Patient and two readings
  EXPECT_EQ(store_->Read("Observation", readings::ReadingId(0, 1)).status().code(),
            StatusCode::kGone);
  EXPECT_TRUE(Search({{"patient", "p1"}}).empty());
  EXPECT_TRUE(store_->Compartment("p1")->empty());
  EXPECT_EQ(Search({{"patient", "p2"}}).size(), 1u);
  auto refused = store_->CommitReadings({"cuff", "p1", {HeartRate(3, kT1)}});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  HistoryQuery q;
  q.type = "Observation";
  EXPECT_EQ(store_->History(q)->versions.size(), 1u) << "erased versions leave history";
}

TEST_F(ReadingsTest, AFormatTwoDirectoryIsMigratedOnOpen) {
  Ingest("cuff", "p1", {HeartRate(1, kT1)});
  store_.reset();
  {  // make it a format-2 directory: no `readings` family, format_version 2
    testing::RawStoreDb raw(dir_ / "db");
    ASSERT_TRUE(raw.ok());
    rocksdb::DB* db = raw.db();
    const std::vector<std::string>& names = raw.names();
    const std::vector<rocksdb::ColumnFamilyHandle*>& handles = raw.handles();
    raw.SetFormat(2);
    // Only the readings' feed records and family are format 3: drop both.
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == readings::kReadings) {
        ASSERT_TRUE(db->DropColumnFamily(handles[i]).ok());
      }
      if (names[i] == keys::kChanges || names[i] == keys::kTypeHistory) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, handles[i]));
        for (it->SeekToFirst(); it->Valid(); it->Next())
          if (readings::IsBatchChange(it->value().ToString())) {
            ASSERT_TRUE(db->Delete({}, handles[i], it->key()).ok());
          }
      }
    }
  }
  StoreOptions ro;
  ro.path = dir_ / "db";
  ro.read_only = true;
  EXPECT_EQ(OpenRocksStore(ro).status().code(), StatusCode::kFailedPrecondition)
      << "read-only cannot migrate";
  Reopen();
  ASSERT_TRUE(store_->Read("Patient", "p1").ok());
  EXPECT_EQ(Ingest("cuff", "p1", {HeartRate(1, kT1)}).stored, std::vector<uint64_t>{1});
  store_.reset();
  EXPECT_TRUE(OpenRocksStore(ro).ok()) << "format 4 now";
}

}  // namespace
}  // namespace medhub::store
