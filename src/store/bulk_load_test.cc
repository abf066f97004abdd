// Store::BeginBulkLoad .. EndBulkLoad on RocksStore: staged commits plan against each
// other, are readable through Read, and are published (change feed, history) only once
// their chunk is added; the store reopens with the sequence continuing.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/temp_dir.h"
#include "fhir/resource.h"
#include "store/bulk_load.h"
#include "store/store.h"
#include "store/test_util.h"

namespace medhub::store {
namespace {

using testing::PutOp;
WriteOp Put(std::string_view body) { return PutOp(body); }

WriteOutcome Commit1(Store* store, WriteOp op) {
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  auto r = store->Commit(std::move(ops));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->at(0) : WriteOutcome{};
}

std::string Obs(int value) {
  return R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[)"
         R"({"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":)"
         R"("Patient/p1"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":)" +
         std::to_string(value) + "}}";
}

constexpr char kPatient[] =
    R"({"resourceType":"Patient","id":"p1","name":[{"family":"Smith"}],"birthDate":"1950-03-04"})";

TEST(BulkLoadTest, StagedCommitsAreReadableAndPublishedOnlyOnceTheirChunkIsAdded) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-bulk-test-" + NewId());
  auto store = OpenRocksStore({dir.string()}).value();
  const WriteOutcome patient = Commit1(store.get(), Put(kPatient));
  ASSERT_EQ(store->LastSequence(), 1u);

  ASSERT_TRUE(store->BeginBulkLoad(1u << 30).ok());  // one chunk: nothing added before End
  EXPECT_EQ(store->BeginBulkLoad(1u << 30).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Commit1(store.get(), Put(Obs(120))).version, 1u);
  const WriteOutcome v2 = Commit1(store.get(), Put(Obs(130)));
  EXPECT_EQ(v2.version, 2u);  // plans against the staged v1
  const WriteOutcome same = Commit1(store.get(), Put(kPatient));
  EXPECT_TRUE(same.unchanged);
  EXPECT_EQ(same.json, patient.json);
  const StoredResource staged = store->Read("Observation", "o1").value();  // staged
  EXPECT_EQ(staged.version, 2u);
  EXPECT_EQ(staged.json, v2.json);
  EXPECT_EQ(staged.seq, v2.seq);
  EXPECT_EQ(staged.last_updated, v2.last_updated);
  EXPECT_EQ(staged.salt.size(), keys::kSaltSize);
  EXPECT_EQ(store->LastSequence(), 1u);                             // not yet published
  EXPECT_EQ(store->ChangesSince(0, 10).value().size(), 1u);
  EXPECT_EQ(store->ReadVersion("Observation", "o1", 1).status().code(), StatusCode::kNotFound);

  // Search adds the staged chunk first.
  auto q = fhir::ParseSearchQuery("Observation", {{"code", "8480-6"}}).value();
  EXPECT_EQ(store->Search(q).value(), std::vector<std::string>{"o1"});
  EXPECT_EQ(store->LastSequence(), 3u);

  WriteOp del;
  del.kind = WriteOp::Kind::kDelete;
  del.type = "Observation";
  del.id = "o1";
  EXPECT_TRUE(Commit1(store.get(), std::move(del)).existed);
  EXPECT_TRUE(store->Read("Observation", "o1").value().deleted);
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(store->LastSequence(), 4u);
  EXPECT_TRUE(store->Search(q).value().empty());
  HistoryQuery h;
  h.type = "Observation";
  h.id = "o1";
  EXPECT_EQ(store->History(h).value().total, 3u);
  EXPECT_NE(store->ReadVersion("Observation", "o1", 2).value().json.find("130"), std::string::npos);
  EXPECT_EQ(store->ReadVersion("Observation", "o1", 2).value().salt, staged.salt);

  store.reset();  // reopened: the sequence continues after the added chunk
  store = OpenRocksStore({dir.string()}).value();
  EXPECT_EQ(store->LastSequence(), 4u);
  EXPECT_TRUE(store->Read("Observation", "o1").value().deleted);
  EXPECT_EQ(Commit1(store.get(), Put(Obs(140))).seq, 5u);
  EXPECT_EQ(store->Read("Observation", "o1").value().version, 4u);
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(BulkLoadTest, ALoadIntoAnEmptyStoreFindsTheResourcesItsEarlierChunksAdded) {
  const auto dir = std::filesystem::temp_directory_path() / ("medhub-bulk-test-" + NewId());
  auto store = OpenRocksStore({dir.string()}).value();
  ASSERT_TRUE(store->BeginBulkLoad(1).ok());  // every commit closes its chunk
  const WriteOutcome patient = Commit1(store.get(), Put(kPatient));
  EXPECT_EQ(Commit1(store.get(), Put(Obs(120))).version, 1u);
  // Search adds every staged chunk: what follows plans against the database, not the
  // staged state.
  auto q = fhir::ParseSearchQuery("Observation", {{"code", "8480-6"}}).value();
  EXPECT_EQ(store->Search(q).value(), std::vector<std::string>{"o1"});
  EXPECT_EQ(Commit1(store.get(), Put(Obs(130))).version, 2u);
  EXPECT_TRUE(Commit1(store.get(), Put(kPatient)).unchanged);
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(store->Read("Observation", "o1").value().version, 2u);
  EXPECT_EQ(store->Read("Patient", "p1").value().version, patient.version);
  EXPECT_EQ(store->LastSequence(), 3u);

  // A second load into the now non-empty store finds them too.
  ASSERT_TRUE(store->BeginBulkLoad(1).ok());
  EXPECT_EQ(Commit1(store.get(), Put(Obs(140))).version, 3u);
  ASSERT_TRUE(store->EndBulkLoad().ok());
  EXPECT_EQ(store->Read("Observation", "o1").value().version, 3u);
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(BulkLoadTest, ChunksGrowToHalfOfWhatTheLoadClosedUpToFourTimesTheFirstSize) {
  BulkState b;
  b.chunk_bytes = 16;
  EXPECT_EQ(b.ChunkLimit(), 16u);
  b.closed_bytes = 32;  // two chunks closed
  EXPECT_EQ(b.ChunkLimit(), 16u);
  b.closed_bytes = 48;
  EXPECT_EQ(b.ChunkLimit(), 24u);
  b.closed_bytes = 1000;
  EXPECT_EQ(b.ChunkLimit(), 64u);
}

TEST(BulkLoadTest, TheArenaKeepsEveryCopyIntactAcrossSlabsAndReusesItsSlabsAfterRewind) {
  BulkArena arena;
  auto bytes = [](size_t n, char c) { return std::string(n, c) + std::to_string(n); };
  // Small copies that fill several slabs, and copies that get blocks of their own.
  std::vector<size_t> sizes;
  for (size_t i = 0; i < 3000; ++i) sizes.push_back(1 + (i * 7919) % 2000);
  sizes.push_back(BulkArena::kSlabSize / 4 + 1);
  sizes.push_back(BulkArena::kSlabSize + 5);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::pair<const char*, std::string>> copies;
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::string b = bytes(sizes[i], static_cast<char>('a' + (i + round) % 26));
      copies.emplace_back(arena.Append(b), b);
    }
    EXPECT_EQ(arena.Append(""), nullptr);
    for (const auto& [p, b] : copies) ASSERT_EQ(std::string_view(p, b.size()), b);
    const char* first = copies.front().first;
    arena.Rewind();
    EXPECT_EQ(arena.Append("x"), first);  // the first slab again, not new memory
    arena.Rewind();
  }
}

TEST(BulkLoadTest, TheHashSetFindsEveryInsertedHashAndNoOtherAsItGrows) {
  HashSet64 set;
  EXPECT_FALSE(set.contains(42));
  std::vector<uint64_t> in, out;
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    (i % 2 ? in : out).push_back(x | 2);  // neither 0 nor 1 (0 is stored as 1)
  }
  for (uint64_t h : in) set.insert(h);
  for (uint64_t h : in) set.insert(h);  // twice: still one entry each
  EXPECT_EQ(set.size(), in.size());
  for (uint64_t h : in) ASSERT_TRUE(set.contains(h));
  size_t found = 0;
  for (uint64_t h : out) found += set.contains(h) ? 1 : 0;
  EXPECT_EQ(found, 0u);
  set.insert(0);
  EXPECT_TRUE(set.contains(0));
  set = {};
  EXPECT_FALSE(set.contains(in.front()));
  EXPECT_EQ(set.size(), 0u);
}

// The same random commits (1-3 puts or deletes of 12 Observations, some of 300 KB) through a
// bulk load with 4 KiB chunks (every commit closes one; spare chunks are reused; large
// values take their own arena blocks) and through plain commits: the same outcomes,
// contents, searches and compartments.
std::string ObsOf(int id, int value, int patient, size_t pad) {
  return R"({"resourceType":"Observation","id":"o)" + std::to_string(id) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},)"
         R"("subject":{"reference":"Patient/p)" + std::to_string(patient) +
         R"("},"effectiveDateTime":"2020-01-01","note":[{"text":")" + std::string(pad, 'x') +
         R"("}],"valueQuantity":{"value":)" + std::to_string(value) + "}}";
}
TEST(BulkLoadTest, ARandomSequenceOfCommitsEndsTheSameInABulkLoadAsCommittedOneByOne) {
  // chunk_bytes 0: plain commits. Small chunks hold a commit or two; 256 KiB ones hold many
  // commits and families of hundreds of writes.
  auto run = [](size_t chunk_bytes, std::vector<std::string>* log) {
    const bool bulk = chunk_bytes > 0;
    testing::TempDir dir;
    auto store = OpenRocksStore({dir / "db"}).value();
    if (bulk) {
      ASSERT_TRUE(store->BeginBulkLoad(chunk_bytes).ok());
    }
    uint64_t x = 88172645463325252ull;  // xorshift64: the same sequence in both runs
    auto rnd = [&x](uint64_t n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x % n;
    };
    for (int step = 0; step < 600; ++step) {
      std::vector<WriteOp> ops;
      const int n = 1 + static_cast<int>(rnd(3));
      for (int k = 0; k < n; ++k) {
        const int id = static_cast<int>(rnd(12));
        if (rnd(5) == 0) {
          WriteOp d;
          d.kind = WriteOp::Kind::kDelete;
          d.type = "Observation";
          d.id = "o" + std::to_string(id);
          ops.push_back(std::move(d));
        } else {
          const size_t pad = rnd(40) == 0 ? 300000 : rnd(2000);
          const int value = static_cast<int>(rnd(6)), patient = static_cast<int>(rnd(3));
          ops.push_back(PutOp(ObsOf(id, value, patient, pad)));
        }
      }
      auto r = store->Commit(std::move(ops));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const WriteOutcome& o : *r) {
        log->push_back(std::to_string(o.version) + (o.created ? "c" : "") +
                       (o.unchanged ? "u" : ""));
      }
    }
    if (bulk) {
      ASSERT_TRUE(store->EndBulkLoad().ok());
    }
    for (int id = 0; id < 12; ++id) {
      auto r = store->Read("Observation", "o" + std::to_string(id));
      if (!r.ok()) {
        log->push_back("absent");
        continue;
      }
      std::string j = r->json;  // without `"lastUpdated":"<instant>",` (the runs' clocks differ)
      const size_t m = j.find("\"lastUpdated\"");
      if (m != std::string::npos) j.erase(m, 45);
      log->push_back(std::to_string(r->version) + (r->deleted ? "d" : "") + j.substr(0, 200) +
                     std::to_string(j.size()));
    }
    for (std::string v : {"0", "1", "2", "3", "4", "5"}) {
      auto q = fhir::ParseSearchQuery("Observation", {{"value-quantity", v}}).value();
      auto found = store->Search(q);
      ASSERT_TRUE(found.ok());
      for (const std::string& id : *found) log->push_back("vq" + v + ":" + id);
    }
    for (std::string p : {"p0", "p1", "p2"}) {
      auto q = fhir::ParseSearchQuery("Observation", {{"patient", p}}).value();
      auto found = store->Search(q);
      ASSERT_TRUE(found.ok());
      for (const std::string& id : *found) log->push_back("pt" + p + ":" + id);
      auto c = store->Compartment(p);
      ASSERT_TRUE(c.ok());
      log->push_back("comp" + p + ":" + std::to_string(c->size()));
    }
    auto q = fhir::ParseSearchQuery("Observation",
                                    {{"code", "8480-6"}, {"_sort", "-_lastUpdated"}});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    auto all = store->Search(*q);
    ASSERT_TRUE(all.ok());
    log->push_back("n" + std::to_string(all->size()));
    store.reset();
  };
  std::vector<std::string> plain;
  run(0, &plain);
  for (size_t chunk_bytes : {size_t{4096}, size_t{256} << 10}) {
    std::vector<std::string> bulk;
    run(chunk_bytes, &bulk);
    ASSERT_EQ(plain.size(), bulk.size()) << chunk_bytes;
    for (size_t i = 0; i < plain.size(); ++i) {
      ASSERT_EQ(plain[i], bulk[i]) << i << " with chunks of " << chunk_bytes;
    }
  }
}
}  // namespace
}  // namespace medhub::store
