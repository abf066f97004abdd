// The in-process engine: runs a job's stages over lake files on all cores.
//
// Stage 1 maps the input files in parallel (one file at a time per worker thread); later
// stages map the previous stage's output lines. Each worker keeps its map output in memory,
// applies the stage's combiner when its buffer fills, and spills a sorted run to a file
// under `spill_dir` only when the combined buffer still exceeds its share of
// `memory_limit_bytes`. The sorted runs are merged by key and reduced. Lines a map cannot
// read (corrupt or truncated JSON) are counted, reported with file and line, and skipped.
//
// Thread-safety: RunLocal may be called concurrently; each call owns its threads and files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "analytics/job.h"
#include "core/status.h"

namespace medhub::analytics {

// One input file: a display name and how to read it whole.
struct InputFile {
  std::string name;
  uint64_t size = 0;
  std::function<Result<std::string>()> read;
};

struct EngineOptions {
  unsigned threads = 0;                        // 0: std::thread::hardware_concurrency()
  uint64_t memory_limit_bytes = 512ull << 20;  // map output held in memory, all threads
  std::string spill_dir;                       // "" : a new folder under $TMPDIR or /tmp
};

struct BadLine {
  std::string file;
  uint64_t line = 0;  // 1-based
  std::string error;
};

struct RunStats {
  uint64_t input_bytes = 0;
  uint64_t input_lines = 0;
  uint64_t bad_lines = 0;
  std::vector<BadLine> first_bad_lines;  // at most kMaxReportedBadLines
  uint64_t spilled_runs = 0;
  uint64_t spilled_bytes = 0;
  std::map<std::string, int64_t> counters;
};
inline constexpr size_t kMaxReportedBadLines = 100;

// The last stage's output as "key\tvalue" lines, sorted bytewise.
struct RunResult {
  std::vector<std::string> lines;
  RunStats stats;
};

// Errors: an input file that cannot be read (its Status), a spill file that cannot be
// written or read (Internal). Bad lines are not errors.
Result<RunResult> RunLocal(const Job& job, const std::vector<InputFile>& inputs,
                           const EngineOptions& options);

}  // namespace medhub::analytics
