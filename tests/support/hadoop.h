// Helpers shared by the tests that run real Hadoop (HDFS, Streaming, YARN) from deploy/hadoop:
// reading their logs and outputs, the `NAME=value` lines the start scripts print, and
// placing a file in HDFS through WebHDFS. Not thread-safe beyond what HttpClient allows.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "core/status.h"

namespace medhub::testing {

// The whole file at `path` ("" if it cannot be read).
std::string ReadWholeFile(const std::string& path);

// The lines of `text`, sorted (engines' outputs are compared this way).
std::vector<std::string> SortedLines(const std::string& text);

// The value of the `NAME=value` line in a start script's output, or "".
std::string EnvValue(const std::string& out, const std::string& name);

// Writes `content` to `hdfs_path` through the WebHDFS REST API at `webhdfs` (two-step
// CREATE with noredirect, overwriting). Errors: Unavailable or Internal naming the step.
Status PutHdfsFile(HttpClient* http, const std::string& webhdfs, const std::string& hdfs_path,
                   const std::string& content);

// Runs the medhub binary with `args`; returns its exit code and puts its stderr in *err.
using MedhubRun = std::function<int(const std::vector<std::string>& args, std::string* err)>;

// The lake both Hadoop tests compute on: `medhub gen` 30 patients (seed 9) into
// DIR/population, `medhub import` them into DIR/data with the lake in HDFS at
// /medhub/lake, then one corrupt (cut short) Patient line in a published file, which every
// engine must skip and count. Returns the lake's webhdfs:// URL. Errors: Internal with the
// failing step's stderr.
Result<std::string> MakeHdfsLakeWithACorruptLine(const MedhubRun& medhub, const std::string& dir,
                                                 const std::string& webhdfs);

}  // namespace medhub::testing
