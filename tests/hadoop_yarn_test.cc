// Integration (ctest labels `hadoop` and `yarn`): a built-in job submitted to a real
// single-node YARN (ResourceManager + NodeManager from deploy/hadoop/start-yarn.sh, beside
// the HDFS of start-hdfs.sh) over a lake in HDFS gives, line for line after sorting, the
// in-process engine's output on the same lake — including a corrupt line both skip and
// count (the count comes back through YARN's counters).
//
// The lake is written into HDFS by medhub's lake writer through WebHDFS (`medhub import
// --lake webhdfs://...`). Every medhub run is bounded by `timeout`; the cluster is stopped in
// TearDownTestSuite whatever happened. Needs java and the Hadoop jars
// (deploy/hadoop/fetch-deps.sh, Maven Central or ~/.m2).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

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
// Upper bounds (seconds) so that a stuck cluster fails the test instead of hanging CI.
constexpr char kJobTimeout[] = "300";
constexpr char kStartTimeout[] = "240";
constexpr char kJob[] = "af-anticoagulation-gap";

class HadoopYarnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(fs::temp_directory_path() / ("medhub-yarn-it-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    auto lib = RunProcess({kRepo + "/deploy/hadoop/fetch-deps.sh"}, *dir_ + "/fetch.log");
    ASSERT_TRUE(lib.ok());
    ASSERT_EQ(lib->exit_code, 0) << ReadWholeFile(*dir_ + "/fetch.log");
    lib_ = new std::string(lib->out.substr(0, lib->out.find('\n')));
    cluster_ = new std::string(*dir_ + "/cluster");
    started_ = true;  // from here on TearDownTestSuite stops whatever started
    auto hdfs = RunProcess(
        {"timeout", "-k", "10", kStartTimeout, kRepo + "/deploy/hadoop/start-hdfs.sh", *cluster_},
        *dir_ + "/start-hdfs.log");
    ASSERT_TRUE(hdfs.ok());
    ASSERT_EQ(hdfs->exit_code, 0) << ReadWholeFile(*dir_ + "/start-hdfs.log");
    webhdfs_ = new std::string(EnvValue(hdfs->out, "WEBHDFS_URL"));
    auto yarn = RunProcess(
        {"timeout", "-k", "10", kStartTimeout, kRepo + "/deploy/hadoop/start-yarn.sh", *cluster_},
        *dir_ + "/start-yarn.log");
    ASSERT_TRUE(yarn.ok());
    ASSERT_EQ(yarn->exit_code, 0) << ReadWholeFile(*dir_ + "/start-yarn.log");
    conf_ = new std::string(EnvValue(yarn->out, "HADOOP_CONF_DIR"));
    yarn_web_ = new std::string(EnvValue(yarn->out, "YARN_WEB"));
    ASSERT_FALSE(webhdfs_->empty()) << hdfs->out;
    ASSERT_FALSE(conf_->empty()) << yarn->out;
  }

  static void TearDownTestSuite() {
    if (started_) {
      // stop-hdfs.sh stops the YARN daemons (and their containers) of the folder first.
      (void)RunProcess({kRepo + "/deploy/hadoop/stop-yarn.sh", *cluster_}, *dir_ + "/stop.log");
      (void)RunProcess({kRepo + "/deploy/hadoop/stop-hdfs.sh", *cluster_}, *dir_ + "/stop.log");
    }
    std::error_code ec;
    // Kept (with the daemons' and containers' logs) when something failed.
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite == nullptr || !suite->Failed()) fs::remove_all(*dir_, ec);
  }

  // Runs the medhub binary (at most kJobTimeout seconds); stderr in *err.
  static int Medhub(const std::vector<std::string>& args, std::string* err) {
    std::vector<std::string> argv = {"timeout", "-k", "10", kJobTimeout, MEDHUB_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = *dir_ + "/medhub-" + std::to_string(++calls_) + ".err";
    auto r = RunProcess(argv, log);
    *err = ReadWholeFile(log);
    return r.ok() ? r->exit_code : -1;
  }

  // Final status of every YARN application named `name_prefix*` (RM REST API).
  static std::vector<std::string> YarnApps(const std::string& name_prefix) {
    HttpClient http;
    std::vector<std::string> out;
    auto r = http.Get(*yarn_web_ + "/ws/v1/cluster/apps");
    if (!r.ok() || r->status != 200) return out;
    auto doc = json::Parse(r->body);
    if (!doc.ok()) return out;
    const json::Value* apps = doc->find("apps");
    const json::Value* list = apps ? apps->find("app") : nullptr;
    if (list == nullptr || !list->is_array()) return out;
    for (const json::Value& app : list->items()) {
      const std::string name(app.get_string("name"));
      if (name.starts_with(name_prefix)) {
        out.push_back(name + " " + std::string(app.get_string("state")) + " " +
                      std::string(app.get_string("finalStatus")));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* lib_ = nullptr;
  static inline std::string* cluster_ = nullptr;
  static inline std::string* webhdfs_ = nullptr;
  static inline std::string* conf_ = nullptr;
  static inline std::string* yarn_web_ = nullptr;
  static inline bool started_ = false;
  static inline int calls_ = 0;
};

TEST_F(HadoopYarnTest, AJobSubmittedToYarnMatchesTheInProcessEngineOverTheLakeInHdfs) {
  ASSERT_NE(conf_, nullptr);
  auto lake = testing::MakeHdfsLakeWithACorruptLine(Medhub, *dir_, *webhdfs_);
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  const std::string url = *lake;
  std::string err;

  const std::string local_out = *dir_ + "/local.csv";
  const std::string yarn_out = *dir_ + "/yarn.csv";
  ASSERT_EQ(Medhub({"analytics", "run", kJob, "--lake", url, "--out", local_out}, &err), 0) << err;
  ASSERT_EQ(
      Medhub({"analytics", "run", kJob, "--engine", "hadoop", "--hadoop-mode", "yarn",
              "--hadoop-conf", *conf_, "--hadoop-lib", *lib_, "--lake", url, "--out", yarn_out},
             &err),
      0)
      << err;
  EXPECT_NE(err.find("skipped 1 unreadable lake line"), std::string::npos) << err;
  const auto local_lines = SortedLines(ReadWholeFile(local_out));
  EXPECT_GT(local_lines.size(), 1u) << "no rows";
  EXPECT_EQ(SortedLines(ReadWholeFile(yarn_out)), local_lines);
  // Both stages ran as YARN applications, not in the client JVM.
  const std::string prefix = std::string("medhub-") + kJob + "-stage-";
  EXPECT_EQ(YarnApps(prefix), (std::vector<std::string>{prefix + "1 FINISHED SUCCEEDED",
                                                        prefix + "2 FINISHED SUCCEEDED"}));
}

// No cluster needed (a plain test, so ctest does not start one for it).
TEST(HadoopYarnModeTest, YarnModeWithoutTheClusterConfigurationIsAClearError) {
  const std::string dir =
      fs::temp_directory_path() / ("medhub-yarn-args-" + std::to_string(getpid()));
  fs::create_directories(dir + "/lib");
  auto run = [&](std::vector<std::string> args, std::string* err) {
    std::vector<std::string> argv = {"timeout", "-k", "10", kJobTimeout, MEDHUB_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, dir + "/err.log");
    *err = ReadWholeFile(dir + "/err.log");
    fs::remove(dir + "/err.log");
    return r.ok() ? r->exit_code : -1;
  };
  std::string err;
  EXPECT_EQ(run({"analytics", "run", kJob, "--engine", "hadoop", "--hadoop-mode", "yarn",
                 "--hadoop-conf", dir + "/no-such-conf", "--hadoop-lib", dir + "/lib", "--lake",
                 "hdfs://127.0.0.1:1/lake"},
                &err),
            1);
  EXPECT_NE(err.find("yarn-site.xml"), std::string::npos) << err;
  EXPECT_EQ(run({"analytics", "run", kJob, "--engine", "hadoop", "--hadoop-mode", "cluster",
                 "--lake", "hdfs://127.0.0.1:1/lake"},
                &err),
            1);
  EXPECT_NE(err.find("--hadoop-mode must be local or yarn"), std::string::npos) << err;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace medhub
