// The lake in the CLI: the writer that `medhub serve` and `medhub import` run beside the
// store (flags --lake DIR|webhdfs://HOST:PORT/PATH, default DATA/lake; --no-lake), and
// `medhub lake sync|status` (docs/formats/lake.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "lake/filesystem.h"
#include "lake/lake_writer.h"
#include "store/store.h"

namespace medhub::cli {

struct LakeNode {
  std::unique_ptr<lake::FileSystem> fs;
  std::unique_ptr<lake::LakeWriter> writer;
};

// The lake location the flags name: --lake, else DATA/lake.
std::string LakeLocation(const Flags& f);

// Opens the lake named by the flags and starts its writer on `store` (which must outlive it).
// nullptr with --no-lake. A lake that cannot be reached now (HDFS down) is reported on stderr
// and retried in the background; only a malformed --lake is an error.
Result<std::unique_ptr<LakeNode>> StartLakeNode(store::Store* store, const Flags& f);

// Commits what the store holds and stops the writer (no-op for nullptr). Prints where the lake
// stands; returns `exit_code`, or 1 when the lake could not take every change.
int StopLakeNode(LakeNode* node, int exit_code);

// `medhub lake sync|status ...`; returns the exit code.
int RunLake(const std::vector<std::string>& args);

}  // namespace medhub::cli
