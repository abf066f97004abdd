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

namespace medhub {
namespace {

namespace fs = std::filesystem;
using analytics::RunProcess;

const std::string kRepo = MEDHUB_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Writes one file into HDFS through WebHDFS (two-step CREATE).
void PutFile(HttpClient* http, const std::string& webhdfs, const std::string& hdfs_path,
             const std::string& content) {
  {
    std::string url = webhdfs + "/webhdfs/v1";
    for (char c : hdfs_path) url += c == '=' ? std::string("%3D") : std::string(1, c);
    HttpClientRequest create;
    create.method = "PUT";
    create.url = url + "?op=CREATE&overwrite=true&noredirect=true&user.name=medhub";
    auto step1 = http->Send(create);
    ASSERT_TRUE(step1.ok()) << step1.status().message();
    ASSERT_EQ(step1->status, 200) << step1->body;
    auto location = json::Parse(step1->body);
    ASSERT_TRUE(location.ok());
    HttpClientRequest data;
    data.method = "PUT";
    data.url = std::string(location->get_string("Location"));
    data.headers = {{"Content-Type", "application/octet-stream"}, {"Expect", ""}};
    data.body = content;
    auto step2 = http->Send(data);
    ASSERT_TRUE(step2.ok()) << step2.status().message();
    ASSERT_EQ(step2->status, 201) << step2->body;
  }
}

class HadoopAnalyticsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("medhub-hadoop-it-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    auto lib = RunProcess({kRepo + "/deploy/hadoop/fetch-deps.sh"}, *dir_ + "/fetch.log");
    ASSERT_TRUE(lib.ok());
    ASSERT_EQ(lib->exit_code, 0) << ReadFile(*dir_ + "/fetch.log");
    lib_ = new std::string(lib->out.substr(0, lib->out.find('\n')));
    auto started = RunProcess({kRepo + "/deploy/hadoop/start-hdfs.sh", *dir_ + "/hdfs"},
                              *dir_ + "/start.log");
    ASSERT_TRUE(started.ok());
    ASSERT_EQ(started->exit_code, 0) << ReadFile(*dir_ + "/start.log");
    hdfs_started_ = true;
    std::istringstream env(started->out);
    for (std::string l; std::getline(env, l);) {
      if (l.starts_with("WEBHDFS_URL=")) webhdfs_ = new std::string(l.substr(12));
    }
    ASSERT_NE(webhdfs_, nullptr) << started->out;
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
    *err = ReadFile(log);
    return r.ok() ? r->exit_code : -1;
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* lib_ = nullptr;
  static inline std::string* webhdfs_ = nullptr;
  static inline bool hdfs_started_ = false;
  static inline int calls_ = 0;
};

TEST_F(HadoopAnalyticsTest, EveryJobOnHadoopStreamingMatchesTheInProcessEngine) {
  ASSERT_NE(webhdfs_, nullptr);
  const std::string population = *dir_ + "/population";
  std::string err;
  ASSERT_EQ(Medhub({"gen", "--patients", "30", "--seed", "9", "--out", population, "--types",
                    "Patient,Condition,Observation,MedicationRequest,Device"},
                   &err),
            0)
      << err;
  const std::string url = "webhdfs://" + webhdfs_->substr(std::string("http://").size()) +
                          "/medhub/lake";
  ASSERT_EQ(Medhub({"import", "--data", *dir_ + "/data", "--lake", url, population}, &err), 0)
      << err;
  // A corrupt line (cut short) in a published file: both engines must skip and count it.
  HttpClient http;
  PutFile(&http, *webhdfs_, "/medhub/lake/Patient/date=2000/bucket=00/part-0000009999-0000.ndjson",
          std::string(R"({"resourceType":"Patient","id":"cut-short","gend)") + "\n");
  if (HasFatalFailure()) return;
  for (const analytics::Job* job : analytics::BuiltinJobs()) {
    const std::string name(job->name());
    const std::string local_out = *dir_ + "/" + name + ".local.csv";
    const std::string hadoop_out = *dir_ + "/" + name + ".hadoop.csv";
    ASSERT_EQ(Medhub({"analytics", "run", name, "--lake", url, "--out", local_out}, &err), 0)
        << err;
    if (name != "device-readings") {
      EXPECT_NE(err.find("skipped 1 unreadable lake line"), std::string::npos) << err;
    }
    ASSERT_EQ(Medhub({"analytics", "run", name, "--engine", "hadoop", "--lake", url,
                      "--hadoop-lib", *lib_, "--out", hadoop_out},
                     &err),
              0)
        << err;
    if (name != "device-readings") {
      EXPECT_NE(err.find("skipped 1 unreadable lake line"), std::string::npos) << err;
    }
    const auto local_lines = SortedLines(ReadFile(local_out));
    EXPECT_GT(local_lines.size(), 1u) << name << ": no rows";
    EXPECT_EQ(SortedLines(ReadFile(hadoop_out)), local_lines) << name;
  }
}

}  // namespace
}  // namespace medhub
