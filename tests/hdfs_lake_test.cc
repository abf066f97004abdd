// The lake on a real single-node HDFS (NameNode + DataNode from the Hadoop 3.5.0 Maven jars),
// through WebHDFS. Each test starts HDFS with deploy/hadoop/start-hdfs.sh in a temp folder and
// stops it afterwards (even when the test fails). Label: hadoop.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "fhir/resource.h"
#include "lake/lake_writer.h"
#include "lake/test_util.h"
#include "lake/webhdfs_filesystem.h"

namespace medhub::lake {
namespace {

using namespace std::chrono_literals;
using testing::ExpectLakeMatchesStore;
using testing::TempDir;

const std::string kScripts = std::string(MEDHUB_SOURCE_DIR) + "/deploy/hadoop/";

// Runs a command; returns its stdout and sets *ok from its exit status.
std::string RunCommand(const std::string& command, bool* ok) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    *ok = false;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *ok = pclose(p) == 0;
  return out;
}

std::string EnvValue(const std::string& env, const std::string& key) {
  const size_t pos = env.find(key + "=");
  if (pos == std::string::npos) return "";
  const size_t end = env.find('\n', pos);
  return env.substr(pos + key.size() + 1, end - pos - key.size() - 1);
}

class HdfsLakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hdfs_dir_ = dir_ / "hdfs";
    Start();
    ASSERT_FALSE(webhdfs_.empty()) << "HDFS did not start";
    auto store = store::OpenRocksStore({dir_ / "data"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    bool ok = false;
    RunCommand(kScripts + "stop-hdfs.sh " + hdfs_dir_, &ok);
  }
  void Start() {
    bool ok = false;
    const std::string env = RunCommand(kScripts + "start-hdfs.sh " + hdfs_dir_, &ok);
    ASSERT_TRUE(ok) << "start-hdfs.sh failed: " << env;
    webhdfs_ = EnvValue(env, "WEBHDFS_URL");
  }
  void StopKeepingData() {
    bool ok = false;
    RunCommand(kScripts + "stop-hdfs.sh --keep " + hdfs_dir_, &ok);
    ASSERT_TRUE(ok);
  }
  std::unique_ptr<WebHdfsFileSystem> Fs(const std::string& root) {
    WebHdfsOptions o;
    o.base_url = webhdfs_;
    o.root = root;
    o.retries = 2;
    o.backoff = 50ms;
    o.timeout = 20s;
    return std::make_unique<WebHdfsFileSystem>(o);
  }
  void CommitObservations(int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      const std::string id = "o" + std::to_string(i % 11);
      store::WriteOp op;
      op.type = "Observation";
      op.id = id;
      op.resource =
          fhir::ParseResource(R"({"resourceType":"Observation","id":")" + id +
                              R"(","status":"final","code":{"text":"step )" + std::to_string(i) +
                              R"("},"subject":{"reference":"Patient/p)" + std::to_string(i % 5) +
                              R"("},"effectiveDateTime":"2024-0)" + std::to_string(1 + i % 3) +
                              R"(-05"})")
              .value();
      ASSERT_TRUE(store_->Commit({std::move(op)}).ok());
    }
  }

  TempDir dir_;
  std::string hdfs_dir_;
  std::string webhdfs_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(HdfsLakeTest, EveryFileSystemOperationWorksAgainstARealNameNodeAndDataNode) {
  auto fs = Fs("/t");
  ASSERT_TRUE(fs->MakeDirs("a/b").ok());
  EXPECT_TRUE(fs->Stat("a/b").value().is_directory);
  ASSERT_TRUE(fs->Create("a/b/f.ndjson", "0123456789", false).ok());  // 307 → DataNode
  EXPECT_EQ(fs->Create("a/b/f.ndjson", "x", false).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(fs->Append("a/b/f.ndjson", "abc").ok());
  EXPECT_EQ(fs->Read("a/b/f.ndjson").value(), "0123456789abc");
  EXPECT_EQ(fs->Read("a/b/f.ndjson", 3, 4).value(), "3456");
  EXPECT_EQ(fs->Read("a/b/f.ndjson", 10).value(), "abc");
  EXPECT_EQ(fs->Stat("a/b/f.ndjson").value().size, 13u);
  EXPECT_EQ(fs->Read("a/b/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs->Append("a/b/missing", "x").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs->Create("a/b/g", "old", false).ok());
  ASSERT_TRUE(fs->Rename("a/b/f.ndjson", "a/b/g").ok());  // replaces
  EXPECT_EQ(fs->Read("a/b/g").value(), "0123456789abc");
  EXPECT_EQ(fs->Rename("a/b/nope", "a/b/h").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs->Create("a/c", "", false).ok());
  const std::vector<FileInfo> list = fs->List("a").value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "b");
  EXPECT_TRUE(list[0].is_directory);
  EXPECT_EQ(list[1].name, "c");
  EXPECT_EQ(fs->List("zzz").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs->Truncate("a/b/g", 4).ok());
  EXPECT_EQ(fs->Read("a/b/g").value(), "0123");
  EXPECT_EQ(fs->Delete("a", false).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(fs->Delete("a", true).ok());
  EXPECT_EQ(fs->Stat("a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs->Delete("a", true).ok());
  EXPECT_EQ(fs->Create("../x", "", true).code(), StatusCode::kInvalidArgument);
}

TEST_F(HdfsLakeTest, AfterTheFirstCreateFilesGoStraightToTheDataNodeInOneRequest) {
  auto fs = Fs("/direct");
  ASSERT_TRUE(fs->Create("a/f0", "first", true).ok());  // NameNode 307, then the DataNode
  const uint64_t before = fs->requests();
  ASSERT_TRUE(fs->Create("b/c/f1", "second", true).ok());  // parents made by the DataNode
  EXPECT_EQ(fs->requests() - before, 1u);
  EXPECT_EQ(fs->Read("b/c/f1").value(), "second");
  ASSERT_TRUE(fs->Create("b/c/f1", "replaced", true).ok());
  EXPECT_EQ(fs->Read("b/c/f1").value(), "replaced");
  // Without overwrite the flags differ: that CREATE asks the NameNode once, then reuses too.
  ASSERT_TRUE(fs->Create("n/f2", "x", false).ok());
  EXPECT_EQ(fs->Create("n/f2", "y", false).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fs->Read("n/f2").value(), "x");
}

TEST_F(HdfsLakeTest, ADataNodeThatGoesAwayIsForgottenAndTheNameNodeAskedAgain) {
  auto fs = Fs("/direct");
  ASSERT_TRUE(fs->Create("f0", "first", true).ok());
  StopKeepingData();
  EXPECT_EQ(fs->Create("f1", "down", true).code(), StatusCode::kUnavailable);
  Start();  // same ports: the NameNode redirects to the same DataNode again
  ASSERT_TRUE(fs->Create("f1", "up", true).ok());
  EXPECT_EQ(fs->Read("f1").value(), "up");
}

TEST_F(HdfsLakeTest, TheLakeWriterWritesAConsistentLakeIntoHdfs) {
  CommitObservations(120);
  auto fs = Fs("/medhub/lake");
  LakeWriterOptions o;
  o.max_file_bytes = 2000;
  o.commit_bytes = 6000;
  o.buffer_bytes = 1500;
  o.batch = 25;
  LakeWriter writer(store_.get(), fs.get(), o);
  ASSERT_TRUE(writer.Open().ok());
  ASSERT_TRUE(writer.CatchUp().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(fs.get(), store_.get()), 120u);
  EXPECT_GT(ReadManifests(fs.get()).value().size(), 2u);
}

TEST_F(HdfsLakeTest, StoppingHdfsMidWriteGivesAClearErrorAndTheLakeStaysConsistent) {
  auto fs = Fs("/medhub/lake");
  LakeWriterOptions o;
  o.max_file_bytes = 1500;
  o.commit_bytes = 3000;
  o.buffer_bytes = 800;
  o.batch = 10;
  o.commit_interval = 0ms;
  o.follow.retry_delay = 100ms;
  std::vector<std::string> logged;
  std::mutex log_mu;
  o.follow.log = [&](std::string_view m) {
    std::lock_guard lock(log_mu);
    logged.emplace_back(m);
  };
  LakeWriter writer(store_.get(), fs.get(), o);
  ASSERT_TRUE(writer.Open().ok());
  writer.Start();
  std::thread producer([&] { CommitObservations(400); });
  // Stop HDFS once the writer has published something and is still going.
  while (writer.state().commit < 2) std::this_thread::sleep_for(10ms);
  StopKeepingData();
  producer.join();
  const Status down = writer.WaitForSequence(store_->LastSequence(), 3s);
  EXPECT_EQ(down.code(), StatusCode::kUnavailable);
  {
    std::lock_guard lock(log_mu);
    ASSERT_FALSE(logged.empty());
    EXPECT_NE(logged.back().find("webhdfs"), std::string::npos) << logged.back();
    EXPECT_NE(logged.back().find(webhdfs_.substr(7)), std::string::npos) << logged.back();
  }
  Start();  // same data, same ports
  EXPECT_TRUE(writer.WaitForSequence(store_->LastSequence(), 120s).ok());
  ASSERT_TRUE(writer.Stop().ok());
  EXPECT_EQ(ExpectLakeMatchesStore(fs.get(), store_.get()), 400u);
}

}  // namespace
}  // namespace medhub::lake
