#include "lake/lake_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "fhir/resource.h"
#include "lake/local_filesystem.h"
#include "lake/manifest.h"
#include "lake/partition.h"
#include "lake/test_util.h"

namespace medhub::lake {
namespace {

using namespace std::chrono_literals;
using testing::ExpectLakeMatchesStore;
using testing::TempDir;

// The local file system with a switch that makes every call fail as an unreachable HDFS
// does, after `ops_left` successful mutating calls (fault injection over the real thing).
class FlakyFileSystem : public LocalFileSystem {
 public:
  using LocalFileSystem::LocalFileSystem;
  std::atomic<int> ops_left{1 << 30};
  Status Gate() {
    return ops_left.fetch_sub(1) > 0 ? Status::Ok() : Status::Unavailable("injected outage");
  }
  Status MakeDirs(std::string_view p) override {
    RETURN_IF_ERROR(Gate());
    return LocalFileSystem::MakeDirs(p);
  }
  Status Create(std::string_view p, std::string_view d, bool o) override {
    RETURN_IF_ERROR(Gate());
    return LocalFileSystem::Create(p, d, o);
  }
  Status Append(std::string_view p, std::string_view d) override {
    RETURN_IF_ERROR(Gate());
    return LocalFileSystem::Append(p, d);
  }
  Status Rename(std::string_view a, std::string_view b) override {
    RETURN_IF_ERROR(Gate());
    return LocalFileSystem::Rename(a, b);
  }
  Status Delete(std::string_view p, bool r) override {
    RETURN_IF_ERROR(Gate());
    return LocalFileSystem::Delete(p, r);
  }
};

std::string ObservationJson(const std::string& id, const std::string& patient, int step,
                            const std::string& date = "2024-03-05") {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","status":"final","code":{"text":"step )" + std::to_string(step) +
         R"("},"subject":{"reference":"Patient/)" + patient + R"("},"effectiveDateTime":")" + date +
         R"("})";
}

void Put(store::Store* store, const std::string& type, const std::string& id,
         const std::string& json_text) {
  store::WriteOp op;
  op.type = type;
  op.id = id;
  op.resource = fhir::ParseResource(json_text).value();
  auto r = store->Commit({std::move(op)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// Commits `n` observations over 7 ids of 3 patients (so later ones are updates).
void CommitObservations(store::Store* store, int n, int first_step = 0) {
  for (int i = first_step; i < first_step + n; ++i) {
    const std::string id = "o" + std::to_string(i % 7);
    Put(store, "Observation", id, ObservationJson(id, "p" + std::to_string(i % 7 % 3), i));
  }
}

class LakeWriterTest : public ::testing::Test {
 protected:
  // The store skips its WAL fsync here: these tests kill nothing but the lake's own steps.
  void SetUp() override {
    store::StoreOptions o;
    o.path = dir_ / "data";
    o.sync_writes = false;
    store_ = store::OpenRocksStore(o).value();
  }

  LakeWriterOptions SmallOptions() {
    LakeWriterOptions o;
    o.max_file_bytes = 600;
    o.commit_bytes = 2000;
    o.buffer_bytes = 500;
    o.batch = 5;
    o.commit_interval = 0ms;
    o.follow.idle_poll = 1ms;
    o.follow.retry_delay = 1ms;
    o.changes_per_bucket = 1;  // these tests spread patients over all 16 buckets
    o.follow.log = [this](std::string_view m) { notes_.emplace_back(m); };
    return o;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  FlakyFileSystem fs_{dir_ / "lake", LocalFileSystem::Durability::kAtBarrier};
  std::vector<std::string> notes_;
};

TEST_F(LakeWriterTest, EveryVersionIsOneLineAndAllVersionsShareTheirResourcesPartition) {
  CommitObservations(store_.get(), 20);
  Put(store_.get(), "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})");
  store::WriteOp del;
  del.kind = store::WriteOp::Kind::kDelete;
  del.type = "Observation";
  del.id = "o1";
  ASSERT_TRUE(store_->Commit({del}).ok());
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(&fs_, store_.get()), 22u);
  // o1 (patient p1): 3 versions and the tombstone, all in one folder; Patient p1 in the same
  // bucket.
  // The date folder is the year o1 was first recorded (its clinical date is 2024).
  const int64_t recorded = store_->ReadVersion("Observation", "o1", 1).value().last_updated;
  const std::string year = FormatInstant(recorded).substr(0, 4);
  const std::string dir = PartitionDir("Observation", year, BucketOf("p1", "", ""));
  std::string all;
  const std::vector<FileInfo> files = fs_.List(dir).value();
  for (const FileInfo& f : files) all += fs_.Read(dir + "/" + f.name).value();
  EXPECT_NE(all.find(R"("id":"o1","meta":{"versionId":"3")"), std::string::npos);
  EXPECT_NE(all.find(R"("code":"deleted")"), std::string::npos);
  const int64_t p1_recorded = store_->ReadVersion("Patient", "p1", 1).value().last_updated;
  EXPECT_TRUE(fs_.List(PartitionDir("Patient", FormatInstant(p1_recorded).substr(0, 4),
                                    BucketOf("p1", "", "")))
                  .ok());
  const std::vector<Manifest> manifests = ReadManifests(&fs_).value();
  uint64_t superseding = 0;
  for (const Manifest& m : manifests) superseding += m.superseding;
  EXPECT_EQ(superseding, 20u - 7u + 1u);  // updates of o0..o6, plus the delete
}

TEST_F(LakeWriterTest, FilesRollAtTheSizeLimitAndCommitsFollowTheCommitSize) {
  CommitObservations(store_.get(), 60);
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  ExpectLakeMatchesStore(&fs_, store_.get());
  const std::vector<Manifest> manifests = ReadManifests(&fs_).value();
  EXPECT_GT(manifests.size(), 1u);
  bool rolled = false;
  for (const Manifest& m : manifests) {
    for (const ManifestFile& f : m.output) {
      const uint64_t line_max = 300;  // one line is well under this
      EXPECT_LE(f.bytes, 600u + line_max) << f.url;
      rolled |= f.url.ends_with("-0001.ndjson");
    }
  }
  EXPECT_TRUE(rolled);
  EXPECT_EQ(writer.state().seq, store_->LastSequence());
}

TEST_F(LakeWriterTest, TheBackgroundWriterFollowsCommitsAsTheyHappen) {
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  writer.Start();
  CommitObservations(store_.get(), 30);
  EXPECT_TRUE(writer.WaitForSequence(store_->LastSequence(), 30s).ok());
  CommitObservations(store_.get(), 5, 30);
  ASSERT_TRUE(writer.Stop().ok());
  ExpectLakeMatchesStore(&fs_, store_.get());
}

TEST_F(LakeWriterTest, ARestartResumesAfterTheLastManifestWithoutDuplicates) {
  CommitObservations(store_.get(), 10);
  {
    LakeWriter writer(store_.get(), &fs_, SmallOptions());
    ASSERT_TRUE(writer.Open().ok());
    ASSERT_TRUE(writer.CatchUp().ok());
  }
  CommitObservations(store_.get(), 10, 10);
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  EXPECT_EQ(writer.state().seq, 10u);
  ASSERT_TRUE(writer.CatchUp().ok());
  ExpectLakeMatchesStore(&fs_, store_.get());
}

TEST_F(LakeWriterTest, AnOutageAtAnyStepLeavesTheManifestsConsistentAndRetryCompletesTheLake) {
  CommitObservations(store_.get(), 40);
  // Fail after k successful writes for every k a full run needs, then recover with a
  // working file system: each time the lake must match the store exactly.
  for (int k = 0; k < 40; k += 1 + k / 10) {
    std::filesystem::remove_all(dir_ / "lake");
    fs_.ops_left = k;
    {
      LakeWriter writer(store_.get(), &fs_, SmallOptions());
      Status s = writer.Open();
      if (s.ok()) s = writer.CatchUp();
      if (!s.ok()) {
        EXPECT_NE(s.message().find("injected outage"), std::string::npos);
      }
      Result<std::vector<Manifest>> m = ReadManifests(&fs_);
      ASSERT_TRUE(m.ok()) << "k=" << k << ": " << m.status().ToString();
    }
    fs_.ops_left = 1 << 30;
    LakeWriter writer(store_.get(), &fs_, SmallOptions());
    ASSERT_TRUE(writer.Open().ok()) << "k=" << k;
    ASSERT_TRUE(writer.CatchUp().ok()) << "k=" << k;
    ExpectLakeMatchesStore(&fs_, store_.get());
  }
}

TEST_F(LakeWriterTest, ThePendingManifestOfACommitCutShortIsRolledForwardAndATornOneDiscarded) {
  CommitObservations(store_.get(), 12);
  // Stop right after the pending manifest and one rename of commit 2 (mutations: commit 1 =
  // create staging files + pending + mkdirs/renames + manifest + delete staging).
  for (int k = 5; k < 25; ++k) {
    std::filesystem::remove_all(dir_ / "lake");
    fs_.ops_left = k;
    {
      LakeWriter writer(store_.get(), &fs_, SmallOptions());
      if (writer.Open().ok()) (void)writer.CatchUp();
    }
    fs_.ops_left = 1 << 30;
    // A torn pending manifest beyond the next commit number is discarded too.
    ASSERT_TRUE(fs_.Create("_manifests/_pending-0000000099.json", "{\"format\":", true).ok());
    LakeWriter writer(store_.get(), &fs_, SmallOptions());
    ASSERT_TRUE(writer.Open().ok());
    EXPECT_EQ(fs_.Stat("_manifests/_pending-0000000099.json").status().code(),
              StatusCode::kNotFound);
    EXPECT_EQ(fs_.Stat("_staging").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(writer.CatchUp().ok());
    ExpectLakeMatchesStore(&fs_, store_.get());
  }
}

TEST_F(LakeWriterTest, ABackgroundWriterRetriesThroughAnOutageAndReportsIt) {
  CommitObservations(store_.get(), 10);
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  fs_.ops_left = 0;
  writer.Start();
  const Status waited = writer.WaitForSequence(store_->LastSequence(), 50ms);
  EXPECT_EQ(waited.code(), StatusCode::kUnavailable);
  EXPECT_NE(waited.message().find("injected outage"), std::string::npos) << waited.message();
  fs_.ops_left = 1 << 30;
  EXPECT_TRUE(writer.WaitForSequence(store_->LastSequence(), 30s).ok());
  ASSERT_TRUE(writer.Stop().ok());
  ExpectLakeMatchesStore(&fs_, store_.get());
  EXPECT_FALSE(notes_.empty());
}

TEST_F(LakeWriterTest, ALakeInTheOldClinicalYearLayoutIsReadableButNotAppendedTo) {
  CommitObservations(store_.get(), 3);
  Manifest m;
  m.commit = 1;
  m.seq = 1;
  m.changes = 1;
  m.output.push_back(
      {"Observation", "Observation/date=2024/bucket=01/part-0000000001-0000.ndjson", 1, 10});
  std::string text = SerializeManifest(m);
  text.replace(text.find(kManifestFormat), kManifestFormat.size(), kManifestFormatV1);
  ASSERT_TRUE(fs_.Create("_manifests/manifest-0000000001.json", text, false).ok());
  ASSERT_EQ(ReadManifests(&fs_).value().at(0).format, kManifestFormatV1);
  LakeWriter writer(store_.get(), &fs_, SmallOptions());
  const Status s = writer.Open();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("medhub-lake/1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("lake sync --to"), std::string::npos) << s.message();
  EXPECT_EQ(ReadManifests(&fs_).value().size(), 1u);  // untouched
}

std::vector<std::string> PatientsInDistinctBuckets(int n);  // below

// The bucket folders the lake's data files are in ("bucket=03" ...).
std::set<std::string> BucketFolders(FileSystem* fs) {
  std::set<std::string> out;
  const Result<std::vector<Manifest>> manifests = ReadManifests(fs);
  EXPECT_TRUE(manifests.ok()) << manifests.status().ToString();
  if (!manifests.ok()) return out;
  for (const Manifest& m : *manifests) {
    for (const ManifestFile& f : m.output) {
      const size_t b = f.url.find("/bucket=");
      out.insert(f.url.substr(b + 1, f.url.find('/', b + 1) - b - 1));
    }
  }
  return out;
}

TEST_F(LakeWriterTest, ASmallLakeStartsWithOneBucketAndGrowsWhileResourcesKeepTheirFolder) {
  LakeWriterOptions o = SmallOptions();
  o.changes_per_bucket = 10;
  CommitObservations(store_.get(), 5);  // o0..o4
  {
    LakeWriter writer(store_.get(), &fs_, o);
    ASSERT_TRUE(writer.Open().ok());
    ASSERT_TRUE(writer.CatchUp().ok());
  }
  EXPECT_EQ(BucketFolders(&fs_), (std::set<std::string>{"bucket=00"}));
  EXPECT_EQ(ReadManifests(&fs_).value().back().bucketing, (std::vector<Bucketing>{{1, 1}}));
  // 45 more changes: 40 new resources of 40 patients and updates of o0..o4. A backlog of 45
  // at 10 changes per bucket: 4 buckets for the new ones; the updates stay in bucket=00.
  const uint64_t grown_from = store_->LastSequence() + 1;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "n" + std::to_string(i);
    Put(store_.get(), "Observation", id, ObservationJson(id, "q" + std::to_string(i), i));
  }
  CommitObservations(store_.get(), 5, 7);
  {
    LakeWriter writer(store_.get(), &fs_, o);
    ASSERT_TRUE(writer.Open().ok());
    ASSERT_TRUE(writer.CatchUp().ok());
  }
  EXPECT_EQ(BucketFolders(&fs_),
            (std::set<std::string>{"bucket=00", "bucket=01", "bucket=02", "bucket=03"}));
  EXPECT_EQ(ReadManifests(&fs_).value().back().bucketing,
            (std::vector<Bucketing>{{1, 1}, {grown_from, 4}}));
  // After a restart, updates of both generations go to their resources' folders.
  CommitObservations(store_.get(), 7, 20);
  Put(store_.get(), "Observation", "n3", ObservationJson("n3", "q3", 99));
  LakeWriter writer(store_.get(), &fs_, o);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(&fs_, store_.get()), 58u);
}

TEST_F(LakeWriterTest, AnOutageInTheCommitThatGrowsTheBucketCountKeepsEveryResourceInItsFolder) {
  // Cut the growing commit (1 → 4 buckets) after k file system writes, for every k it
  // needs: a pending manifest rolled forward must bring its bucketing along, and a commit
  // redone must decide again; later updates must still find their resources' folders.
  LakeWriterOptions o = SmallOptions();
  o.changes_per_bucket = 10;
  o.commit_bytes = 1 << 30;  // the growing commit is one commit
  for (int k = 0; k < 30; k += 1 + k / 6) {
    std::filesystem::remove_all(dir_ / "lake");
    store::StoreOptions so;
    so.path = dir_ / ("s" + std::to_string(k));
    so.sync_writes = false;
    std::unique_ptr<store::Store> store = store::OpenRocksStore(so).value();
    CommitObservations(store.get(), 5);
    fs_.ops_left = 1 << 30;
    {
      LakeWriter first(store.get(), &fs_, o);
      ASSERT_TRUE(first.Open().ok());
      ASSERT_TRUE(first.CatchUp().ok());
    }
    const uint64_t grown_from = store->LastSequence() + 1;
    for (int i = 0; i < 40; ++i) {
      const std::string id = "n" + std::to_string(i);
      Put(store.get(), "Observation", id, ObservationJson(id, "q" + std::to_string(i), i));
    }
    CommitObservations(store.get(), 5, 7);
    fs_.ops_left = k;
    {
      LakeWriter cut(store.get(), &fs_, o);
      Status s = cut.Open();
      if (s.ok()) s = cut.CatchUp();
      ASSERT_TRUE(ReadManifests(&fs_).ok()) << "k=" << k;
    }
    fs_.ops_left = 1 << 30;
    LakeWriter writer(store.get(), &fs_, o);
    ASSERT_TRUE(writer.Open().ok()) << "k=" << k;
    ASSERT_TRUE(writer.CatchUp().ok()) << "k=" << k;
    CommitObservations(store.get(), 7, 20);
    Put(store.get(), "Observation", "n3", ObservationJson("n3", "q3", 99));
    ASSERT_TRUE(writer.CatchUp().ok()) << "k=" << k;
    EXPECT_EQ(ExpectLakeMatchesStore(&fs_, store.get()), 58u) << "k=" << k;
    EXPECT_EQ(ReadManifests(&fs_).value().back().bucketing,
              (std::vector<Bucketing>{{1, 1}, {grown_from, 4}}))
        << "k=" << k;
  }
}

TEST_F(LakeWriterTest, ASixteenBucketLakeOfTheFormerFormatIsAppendedToWithSixteenBuckets) {
  Manifest m;  // an empty first commit, as medhub-lake/2 (no bucketing) wrote it
  m.commit = 1;
  m.bucketing = {{1, 16}};
  std::string text = SerializeManifest(m);
  text.replace(text.find(kManifestFormat), kManifestFormat.size(), kManifestFormatV2);
  text.replace(text.find(R"("bucketing")"), text.find(R"("output")") - text.find(R"("bucketing")"),
               "");
  ASSERT_TRUE(fs_.Create("_manifests/manifest-0000000001.json", text, false).ok());
  ASSERT_EQ(ReadManifests(&fs_).value().at(0).format, kManifestFormatV2);
  const std::vector<std::string> patients = PatientsInDistinctBuckets(16);
  for (int i = 0; i < 16; ++i) {
    const std::string id = "o" + std::to_string(i);
    Put(store_.get(), "Observation", id, ObservationJson(id, patients[i], i));
  }
  LakeWriterOptions o = SmallOptions();
  o.changes_per_bucket = 1000;  // alone, it would give a new lake 1 bucket
  LakeWriter writer(store_.get(), &fs_, o);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(&fs_, store_.get()), 16u);
  EXPECT_EQ(BucketFolders(&fs_).size(), 16u);
  const std::vector<Manifest> all = ReadManifests(&fs_).value();
  EXPECT_EQ(all.back().format, kManifestFormat);
  EXPECT_EQ(all.back().bucketing, (std::vector<Bucketing>{{1, 16}}));
}

// Counts the writes that reach the file system, per path (the real local file system).
class CountingFileSystem : public LocalFileSystem {
 public:
  using LocalFileSystem::LocalFileSystem;
  std::map<std::string, int> creates, appends;
  Status Create(std::string_view p, std::string_view d, bool o) override {
    creates[std::string(p)]++;
    return LocalFileSystem::Create(p, d, o);
  }
  Status Append(std::string_view p, std::string_view d) override {
    appends[std::string(p)]++;
    return LocalFileSystem::Append(p, d);
  }
};

// Patient ids whose buckets are all different.
std::vector<std::string> PatientsInDistinctBuckets(int n) {
  std::vector<std::string> out;
  std::set<int> used;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    const std::string p = "p" + std::to_string(i);
    if (used.insert(BucketOf(p, "", "")).second) out.push_back(p);
  }
  return out;
}

TEST_F(LakeWriterTest, OnlyBigBuffersAreAppendedSmallFilesAreWrittenOnceAtTheirCommit) {
  // One busy patient and 8 with a line each: past the memory buffer only the busy
  // patient's file is written early (and appended to); the others are created once.
  const std::vector<std::string> patients = PatientsInDistinctBuckets(16);
  for (int i = 0; i < 60; ++i) {
    const std::string& p = i % 8 == 0 ? patients[1 + i / 8] : patients[0];
    const std::string id = "o" + std::to_string(i);
    Put(store_.get(), "Observation", id, ObservationJson(id, p, i));
  }
  CountingFileSystem fs(dir_ / "counted", LocalFileSystem::Durability::kAtBarrier);
  LakeWriterOptions o = SmallOptions();
  o.buffer_bytes = 16 * 300;  // appends carry >= 300 bytes (a line is ~230); 8 small < 2400
  o.commit_bytes = 1 << 30;
  o.max_file_bytes = 1 << 30;
  LakeWriter writer(store_.get(), &fs, o);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(&fs, store_.get()), 60u);
  ASSERT_EQ(ReadManifests(&fs).value().size(), 1u);
  const std::string busy = "~bucket=" + std::string(BucketOf(patients[0], "", "") < 10 ? "0" : "") +
                           std::to_string(BucketOf(patients[0], "", "")) + "~";
  ASSERT_FALSE(fs.appends.empty());
  for (const auto& [path, n] : fs.appends) EXPECT_NE(path.find(busy), std::string::npos) << path;
  for (const auto& [path, n] : fs.creates) EXPECT_EQ(n, 1) << path;
}

TEST_F(LakeWriterTest, WhenSmallBuffersFillHalfTheMemoryTheWriterCommitsEarly) {
  // 16 partitions growing evenly: none is big enough to append, so memory is bounded by
  // committing before commit_bytes (which is never reached) and before the feed drains.
  const std::vector<std::string> patients = PatientsInDistinctBuckets(16);
  for (int i = 0; i < 96; ++i) {
    const std::string id = "o" + std::to_string(i);
    Put(store_.get(), "Observation", id, ObservationJson(id, patients[i % 16], i));
  }
  CountingFileSystem fs(dir_ / "counted", LocalFileSystem::Durability::kAtBarrier);
  LakeWriterOptions o = SmallOptions();
  o.buffer_bytes = 16 * 450;
  o.commit_bytes = 1 << 30;
  o.max_file_bytes = 1 << 30;
  LakeWriter writer(store_.get(), &fs, o);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(&fs, store_.get()), 96u);
  EXPECT_GE(ReadManifests(&fs).value().size(), 2u);
}

// A writer process killed with SIGKILL while the store and the lake are both being written:
// the restarted writer resumes from the last manifest with no duplicates and no gaps.
TEST_F(LakeWriterTest, AWriterKilledWithSigkillResumesWithoutDuplicatesOrGaps) {
  store_.reset();
  const std::string data = dir_ / "data";
  const std::string lake = dir_ / "lake";
  for (int round = 0; round < 3; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = store::OpenRocksStore({data}).value();
      LocalFileSystem fs(lake, LocalFileSystem::Durability::kAtBarrier);
      LakeWriterOptions o;
      o.max_file_bytes = 4000;
      o.commit_bytes = 3000;
      o.batch = 7;
      o.commit_interval = 0ms;
      o.follow.idle_poll = 1ms;
      o.changes_per_bucket = 4;  // the bucket count grows from 1 as the backlog does
      LakeWriter writer(store.get(), &fs, o);
      if (!writer.Open().ok()) _exit(2);
      writer.Start();
      for (int i = 0;; ++i) CommitObservations(store.get(), 1, round * 100000 + i);
    }
    // Kill once a few more commits are published.
    LocalFileSystem probe(lake);
    const size_t target = (static_cast<size_t>(round) + 1) * 5;
    for (int i = 0; i < 20000; ++i) {
      Result<std::vector<Manifest>> m = ReadManifests(&probe);
      if (m.ok() && m->size() >= target) break;
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus));
  }
  store_ = store::OpenRocksStore({data}).value();
  LocalFileSystem fs(lake);
  LakeWriter writer(store_.get(), &fs, SmallOptions());
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_GT(ExpectLakeMatchesStore(&fs, store_.get()), 15u);
}

}  // namespace
}  // namespace medhub::lake
