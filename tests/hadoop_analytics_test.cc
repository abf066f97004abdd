// Integration (ctest label `hadoop`): every built-in job on Hadoop Streaming over a lake in a
// real single-node HDFS (deploy/hadoop) gives, line for line after sorting, the in-process
// engine's output on the same lake — including a corrupt line both engines skip.
//
// A population from `medhub gen` is imported into a store whose lake writer writes the lake
// into HDFS through WebHDFS (`medhub import --lake webhdfs://...`); the in-process engine
// reads that same HDFS lake through WebHDFS, Hadoop Streaming through its own client. Needs
// java and the Hadoop jars (deploy/hadoop/fetch-deps.sh, Maven Central or ~/.m2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "analytics/job.h"
#include "analytics/subprocess.h"
#include "core/http_client.h"
#include "core/json.h"
#include "support/hadoop.h"

namespace medhub {
namespace {

namespace fs = std::filesystem;
using analytics::RunProcess;
using testing::EnvValue;
using testing::ReadWholeFile;
using testing::SortedLines;

const std::string kRepo = MEDHUB_SOURCE_DIR;

class HadoopAnalyticsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("medhub-hadoop-it-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    auto lib = RunProcess({kRepo + "/deploy/hadoop/fetch-deps.sh"}, *dir_ + "/fetch.log");
    ASSERT_TRUE(lib.ok());
    ASSERT_EQ(lib->exit_code, 0) << ReadWholeFile(*dir_ + "/fetch.log");
    lib_ = new std::string(lib->out.substr(0, lib->out.find('\n')));
    auto started = RunProcess({kRepo + "/deploy/hadoop/start-hdfs.sh", *dir_ + "/hdfs"},
                              *dir_ + "/start.log");
    ASSERT_TRUE(started.ok());
    ASSERT_EQ(started->exit_code, 0) << ReadWholeFile(*dir_ + "/start.log");
    hdfs_started_ = true;
    webhdfs_ = new std::string(EnvValue(started->out, "WEBHDFS_URL"));
    ASSERT_FALSE(webhdfs_->empty()) << started->out;
  }

  static void TearDownTestSuite() {
    if (hdfs_started_) {
      (void)RunProcess({kRepo + "/deploy/hadoop/stop-hdfs.sh", *dir_ + "/hdfs"},
                       *dir_ + "/stop.log");
    }
    std::error_code ec;
    fs::remove_all(*dir_, ec);
  }

  // Runs the medhub binary; returns stdout, stderr in *err.
  static int Medhub(const std::vector<std::string>& args, std::string* err) {
    std::vector<std::string> argv = {MEDHUB_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = *dir_ + "/medhub-" + std::to_string(++calls_) + ".err";
    auto r = RunProcess(argv, log);
    *err = ReadWholeFile(log);
    return r.ok() ? r->exit_code : -1;
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* lib_ = nullptr;
  static inline std::string* webhdfs_ = nullptr;
  static inline bool hdfs_started_ = false;
  static inline int calls_ = 0;
};

// The input bytes `--stats` printed ("medhub: JOB: 1234 bytes, ..."), or "" if none.
std::string StatsBytes(const std::string& err, const std::string& job) {
  const std::string head = "medhub: " + job + ": ";
  const size_t at = err.find(head);
  if (at == std::string::npos) return "";
  const size_t start = at + head.size();
  return err.substr(start, err.find(" bytes", start) - start);
}

TEST_F(HadoopAnalyticsTest, EveryJobOnHadoopStreamingMatchesTheInProcessEngine) {
  ASSERT_NE(webhdfs_, nullptr);
  auto lake = testing::MakeHdfsLakeWithACorruptLine(Medhub, *dir_, *webhdfs_);
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  const std::string url = *lake;
  std::string err;
  for (const analytics::Job* job : analytics::BuiltinJobs()) {
    const std::string name(job->name());
    const std::string local_out = *dir_ + "/" + name + ".local.csv";
    const std::string hadoop_out = *dir_ + "/" + name + ".hadoop.csv";
    ASSERT_EQ(
        Medhub({"analytics", "run", name, "--lake", url, "--out", local_out, "--stats"}, &err),
        0)
        << err;
    if (name != "device-readings") {
      EXPECT_NE(err.find("skipped 1 unreadable lake line"), std::string::npos) << err;
    }
    const std::string local_bytes = StatsBytes(err, name);
    ASSERT_EQ(Medhub({"analytics", "run", name, "--engine", "hadoop", "--lake", url,
                      "--hadoop-lib", *lib_, "--out", hadoop_out, "--stats"},
                     &err),
              0)
        << err;
    if (name != "device-readings") {
      EXPECT_NE(err.find("skipped 1 unreadable lake line"), std::string::npos) << err;
    }
    // --stats: both engines read the same bytes (Hadoop's come from the mappers' counter).
    EXPECT_NE(local_bytes, "0") << name;
    EXPECT_EQ(StatsBytes(err, name), local_bytes) << name << ": " << err;
    const auto local_lines = SortedLines(ReadWholeFile(local_out));
    EXPECT_GT(local_lines.size(), 1u) << name << ": no rows";
    EXPECT_EQ(SortedLines(ReadWholeFile(hadoop_out)), local_lines) << name;
  }
}

}  // namespace
}  // namespace medhub
