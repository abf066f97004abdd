// The Hadoop engine: runs a job's stages as Hadoop Streaming jobs over a lake in HDFS.
//
// Each stage is one `org.apache.hadoop.streaming.HadoopStreaming` run of the client JVM
// against the lake's file system: mapper `medhub mr map JOB --stage N`, combiner
// `medhub mr combine ...` when the stage has one, reducer `medhub mr reduce ...`. Two modes:
//  - local: the LocalJobRunner (mapreduce.framework.name=local: map and reduce tasks are
//    threads of the client JVM, the medhub binary at its absolute path their children);
//  - yarn: the job is submitted to the YARN cluster that conf_dir's yarn-site.xml names
//    (mapreduce.framework.name=yarn; deploy/hadoop/start-yarn.sh writes such a folder);
//    the medhub binary is shipped to the containers with `-files BINARY#medhub` and run
//    from their working folders; fs.defaultFS (staging) and the container sizes come from
//    conf_dir's core-site.xml and mapred-site.xml.
// Stage 1 reads the lake's published files of the job's input types
// (`<root>/{Type,...}/date=*/bucket=*/*.ndjson`, packed into splits by CombineTextInputFormat,
// because the lake holds many small files); stage N reads stage N-1's output. The last stage's part
// files are read back (over WebHDFS, or with `FsShell -cat`), sorted, and the work folder is
// removed. Output lines are the same "key\tvalue" lines as RunLocal's.
//
// Thread-safety: RunHadoop may run concurrently with distinct work folders (it makes one).
#pragma once

#include <string>

#include "analytics/job.h"
#include "analytics/local_engine.h"
#include "core/status.h"

namespace medhub::analytics {

struct HadoopOptions {
  // Where the lake is: webhdfs://HOST:PORT/PATH (NameNode HTTP), hdfs://HOST:PORT/PATH, or
  // file:///PATH (Hadoop on the local file system, no HDFS: for benchmarks).
  std::string lake_url;
  std::string medhub_binary;  // absolute path of the medhub executable (mapper/reducer)
  std::string hadoop_lib;     // folder of the Hadoop jars (deploy/hadoop/fetch-deps.sh)
  std::string conf_dir;       // optional Hadoop configuration folder, first on the classpath
  std::string java = "java";
  std::string local_dir;  // local scratch (logs, Hadoop's local dirs); "" : a new temp folder
  int reducers = 2;
  bool yarn = false;  // submit to YARN (conf_dir required) instead of the LocalJobRunner
};

// The Hadoop JVM flags for JDK 17 (the --add-opens list Hadoop 3.5 adds itself).
const std::vector<std::string>& HadoopJvmFlags();

// Errors: InvalidArgument for a malformed lake URL or a missing jar folder; Unavailable
// when java cannot start; Internal when a Hadoop job fails (message: the end of its log).
Result<RunResult> RunHadoop(const Job& job, const HadoopOptions& options);

}  // namespace medhub::analytics
