#include "analytics/hadoop_engine.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "analytics/subprocess.h"
#include "core/http_client.h"
#include "core/json.h"

namespace medhub::analytics {
namespace {

struct LakeUrl {
  std::string fs;          // scheme://authority (prefix of every path)
  std::string default_fs;  // fs.defaultFS: fs, or file:/// for the local file system
  std::string root;        // absolute path, no trailing '/'
};

Result<LakeUrl> ParseLakeUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return Status::InvalidArgument("lake URL must be webhdfs://HOST:PORT/PATH or hdfs://...: " +
                                   url);
  }
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "webhdfs" && scheme != "hdfs" && scheme != "file") {
    return Status::InvalidArgument(
        "the Hadoop engine reads webhdfs://, hdfs:// or file:// lakes, not " + scheme + "://");
  }
  const size_t path_start = url.find('/', scheme_end + 3);
  LakeUrl out;
  out.fs = url.substr(0, path_start);
  out.root = path_start == std::string::npos ? "" : url.substr(path_start);
  out.default_fs = scheme == "file" ? "file:///" : out.fs;
  while (!out.root.empty() && out.root.back() == '/') out.root.pop_back();
  if (out.fs.size() <= scheme.size() + 3 && scheme != "file") {
    return Status::InvalidArgument("no host in " + url);
  }
  for (char c : out.root) {
    if (c == ' ' || c == ',' || c == '{' || c == '}' || c == '*') {
      return Status::InvalidArgument("unsupported character in lake path: " + out.root);
    }
  }
  return out;
}

struct Context {
  const HadoopOptions* o;
  LakeUrl lake;
  std::string local;  // scratch folder
  std::string log;    // client log file
  std::string classpath;
};

std::vector<std::string> JavaCommand(const Context& c, const std::string& main_class) {
  std::vector<std::string> argv = {c.o->java};
  for (const std::string& f : HadoopJvmFlags()) argv.push_back(f);
  argv.insert(argv.end(), {"-Xmx768m", "-XX:+UseSerialGC", "-Dhadoop.log.dir=" + c.local,
                           "-Djava.io.tmpdir=" + c.local + "/tmp", "-cp", c.classpath, main_class});
  return argv;
}

Result<std::string> Java(const Context& c, std::vector<std::string> argv, const std::string& what) {
  { std::ofstream(c.log, std::ios::app) << "\n==== " << what << "\n"; }
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, c.log));
  if (r.exit_code != 0) {
    return Status::Internal(what + " failed (exit " + std::to_string(r.exit_code) + "); log " +
                            c.log + ":\n" + TailOfFile(c.log, 30) + r.out.substr(0, 2000));
  }
  return r.out;
}

// On YARN the binary is the `medhub` link -files puts in each container's working folder.
std::string StageCommand(const Context& c, const Job& job, const char* role, size_t stage) {
  return (c.o->yarn ? std::string("medhub") : c.o->medhub_binary) + " mr " + role + " " +
         std::string(job.name()) + " --stage " + std::to_string(stage);
}

Status RunStage(const Context& c, const Job& job, size_t stage, const std::string& input,
                const std::string& output) {
  std::vector<std::string> argv = JavaCommand(c, "org.apache.hadoop.streaming.HadoopStreaming");
  std::vector<std::string> conf = {
      "mapreduce.job.reduces=" + std::to_string(std::max(1, c.o->reducers)),
      "mapreduce.job.name=medhub-" + std::string(job.name()) + "-stage-" + std::to_string(stage),
      "mapreduce.input.fileinputformat.split.maxsize=134217728",
      "stream.non.zero.exit.is.failure=true",
      // CombineTextInputFormat hands (offset, line) pairs: pipe only the line.
      "stream.map.input.ignoreKey=true",
      "dfs.client.use.datanode.hostname=false",
  };
  if (c.o->yarn) {
    // fs.defaultFS (staging folder) and container sizes: the cluster's configuration.
    conf.push_back("mapreduce.framework.name=yarn");
  } else {
    conf.insert(conf.end(),
                {"fs.defaultFS=" + c.lake.default_fs, "mapreduce.framework.name=local",
                 "mapreduce.local.map.tasks.maximum=2", "mapreduce.local.reduce.tasks.maximum=2",
                 // Both reducers share the one client JVM: each may hold at most 20% of
                 // its heap in shuffled map output (the default, 70% each, ran out of heap
                 // at 100k patients), the rest is merged on disk.
                 "mapreduce.reduce.shuffle.input.buffer.percent=0.2",
                 "hadoop.tmp.dir=" + c.local + "/hadoop"});
  }
  for (const std::string& kv : conf) argv.insert(argv.end(), {"-D", kv});
  if (c.o->yarn) argv.insert(argv.end(), {"-files", c.o->medhub_binary + "#medhub"});
  if (stage == 1) {
    argv.insert(argv.end(),
                {"-inputformat", "org.apache.hadoop.mapred.lib.CombineTextInputFormat"});
  }
  argv.insert(argv.end(),
              {"-input", input, "-output", output, "-mapper", StageCommand(c, job, "map", stage),
               "-reducer", StageCommand(c, job, "reduce", stage)});
  if (job.stages()[stage - 1]->has_combiner()) {
    argv.insert(argv.end(), {"-combiner", StageCommand(c, job, "combine", stage)});
  }
  return Java(c, argv, "Hadoop Streaming stage " + std::to_string(stage)).status();
}

// The medhub counters the job client logged for the job ("\t\tbad_lines=3"; the client
// prints its counters more than once, so the last value counts).
void ReadCounters(const std::string& log, RunStats* stats) {
  std::ifstream in(log);
  const std::regex counter(
      R"(^\s+(bad_lines|input_bytes|input_lines|records|ignored_versions|current_resources))"
      R"(=(\d+)\s*$)");
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, counter)) {
      stats->counters[m[1]] = std::stoll(m[2]);
    }
  }
  stats->bad_lines = static_cast<uint64_t>(stats->counters["bad_lines"]);
  stats->input_lines = static_cast<uint64_t>(stats->counters["input_lines"]);
  stats->input_bytes = static_cast<uint64_t>(stats->counters["input_bytes"]);
}

// `fs`: the fs.defaultFS of the client's own core-site.xml; "" writes none (YARN: the
// cluster's configuration folder, later on the classpath, has it).
Result<std::string> MakeScratch(const std::string& requested, const std::string& fs) {
  std::string dir = requested;
  if (dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/medhub-hadoop-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) return Status::Internal("cannot create a temp folder");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/tmp", ec);
  if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  std::ofstream(dir + "/log4j.properties")
      << "log4j.rootLogger=INFO,E\nlog4j.appender.E=org.apache.log4j.ConsoleAppender\n"
         "log4j.appender.E.target=System.err\n"
         "log4j.appender.E.layout=org.apache.log4j.PatternLayout\n"
         "log4j.appender.E.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n\n";
  // The client's own core-site.xml (first on the classpath): the lake's file system.
  if (fs.empty()) return dir;
  std::ofstream(dir + "/core-site.xml")
      << "<?xml version=\"1.0\"?>\n<configuration>\n  <property><name>fs.defaultFS</name><value>"
      << fs << "</value></property>\n</configuration>\n";
  return dir;
}

// WebHDFS base URL (http://HOST:PORT) of a webhdfs:// lake; "" for hdfs://.
std::string WebHdfsBase(const LakeUrl& lake) {
  if (!lake.fs.starts_with("webhdfs://")) return {};
  return "http://" + lake.fs.substr(std::string("webhdfs://").size());
}

std::string UserName() {
  const char* user = getenv("USER");
  return user && *user ? user : "medhub";
}

// The concatenated part files of `dir`: over WebHDFS (LISTSTATUS + OPEN) when the lake is
// webhdfs://, else with `FsShell -cat`.
Result<std::string> FetchOutput(const Context& c, const std::string& dir) {
  const std::string base = WebHdfsBase(c.lake);
  if (base.empty()) {
    std::vector<std::string> cat = JavaCommand(c, "org.apache.hadoop.fs.FsShell");
    cat.insert(cat.end(),
               {"-D", "fs.defaultFS=" + c.lake.default_fs, "-cat", c.lake.fs + dir + "/part-*"});
    return Java(c, cat, "FsShell -cat");
  }
  HttpClient http;
  const std::string user = "&user.name=" + UrlEncode(UserName());
  ASSIGN_OR_RETURN(auto list, http.Get(base + "/webhdfs/v1" + dir + "?op=LISTSTATUS" + user));
  if (list.status != 200) {
    return Status::Unavailable("WebHDFS LISTSTATUS " + dir + ": HTTP " +
                               std::to_string(list.status) + " " + list.body);
  }
  ASSIGN_OR_RETURN(json::Value listing, json::Parse(list.body));
  std::vector<std::string> parts;
  if (const json::Value* fss = listing.find("FileStatuses")) {
    if (const json::Value* files = fss->find("FileStatus"); files && files->is_array()) {
      for (const json::Value& f : files->items()) {
        const std::string name(f.get_string("pathSuffix"));
        if (name.starts_with("part-")) parts.push_back(name);
      }
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string text;
  for (const std::string& part : parts) {
    HttpClientRequest open;
    open.url = base + "/webhdfs/v1" + dir + "/" + part + "?op=OPEN" + user;
    open.follow_redirects = true;
    open.timeout = std::chrono::minutes(10);
    ASSIGN_OR_RETURN(auto r, http.Send(open));
    if (r.status != 200) {
      return Status::Unavailable("WebHDFS OPEN " + part + ": HTTP " + std::to_string(r.status));
    }
    text += r.body;
  }
  return text;
}

void RemoveWork(const Context& c, const std::string& work) {
  const std::string base = WebHdfsBase(c.lake);
  if (base.empty()) {
    std::vector<std::string> rm = JavaCommand(c, "org.apache.hadoop.fs.FsShell");
    rm.insert(rm.end(), {"-D", "fs.defaultFS=" + c.lake.default_fs, "-rm", "-r", "-f", "-skipTrash",
                         c.lake.fs + work});
    (void)Java(c, rm, "FsShell -rm");
    return;
  }
  HttpClient http;
  HttpClientRequest del;
  del.method = "DELETE";
  del.url =
      base + "/webhdfs/v1" + work + "?op=DELETE&recursive=true&user.name=" + UrlEncode(UserName());
  (void)http.Send(del);
}

}  // namespace

const std::vector<std::string>& HadoopJvmFlags() {
  static const std::vector<std::string> flags = {
      "-XX:+IgnoreUnrecognizedVMOptions",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.math=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/java.text=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.zip=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/sun.security.util=ALL-UNNAMED",
      "--add-opens=java.base/sun.security.x509=ALL-UNNAMED",
      "-Djava.net.preferIPv4Stack=true"};
  return flags;
}

Result<RunResult> RunHadoop(const Job& job, const HadoopOptions& o) {
  Context c;
  c.o = &o;
  ASSIGN_OR_RETURN(c.lake, ParseLakeUrl(o.lake_url));
  std::error_code ec;
  if (o.hadoop_lib.empty() || !std::filesystem::is_directory(o.hadoop_lib, ec)) {
    return Status::InvalidArgument(
        "no Hadoop jars: set MEDHUB_HADOOP_LIB or --hadoop-lib to the folder "
        "deploy/hadoop/fetch-deps.sh fills (got '" +
        o.hadoop_lib + "')");
  }
  if (o.medhub_binary.empty() || o.medhub_binary.front() != '/') {
    return Status::InvalidArgument("the medhub binary path must be absolute");
  }
  if (o.yarn && (o.conf_dir.empty() ||
                 !std::filesystem::is_regular_file(o.conf_dir + "/yarn-site.xml", ec))) {
    return Status::InvalidArgument(
        "--hadoop-mode yarn needs the cluster's configuration folder with its yarn-site.xml "
        "(--hadoop-conf or HADOOP_CONF_DIR; deploy/hadoop/start-yarn.sh prints it), got '" +
        o.conf_dir + "'");
  }
  ASSIGN_OR_RETURN(c.local, MakeScratch(o.local_dir, o.yarn ? "" : c.lake.default_fs));
  c.log = c.local + "/hadoop-client.log";
  c.classpath = c.local + (o.conf_dir.empty() ? "" : ":" + o.conf_dir) + ":" + o.hadoop_lib + "/*";

  std::string types;
  for (const std::string& t : job.input_types()) types += (types.empty() ? "" : ",") + t;
  const std::string work = "/tmp/medhub-analytics-work/" + std::string(job.name()) + "-" +
                           std::to_string(getpid()) + "-" + std::to_string(time(nullptr));
  std::string input = c.lake.fs + c.lake.root + "/{" + types + "}/date=*/bucket=*/*.ndjson";
  RunResult result;
  for (size_t s = 1; s <= job.stages().size(); ++s) {
    const std::string output = c.lake.fs + work + "/stage-" + std::to_string(s);
    RETURN_IF_ERROR(RunStage(c, job, s, input, output));
    if (s == 1) ReadCounters(c.log, &result.stats);  // lake input counters only
    input = output;
  }
  ASSIGN_OR_RETURN(std::string text,
                   FetchOutput(c, work + "/stage-" + std::to_string(job.stages().size())));
  RemoveWork(c, work);  // best effort: the results are already read

  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty()) result.lines.push_back(l);
  }
  std::sort(result.lines.begin(), result.lines.end());
  if (o.local_dir.empty()) std::filesystem::remove_all(c.local, ec);
  return result;
}

}  // namespace medhub::analytics
