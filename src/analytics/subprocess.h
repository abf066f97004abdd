// Runs a program and waits for it: stdout captured into a string, stderr into a file.
// Used by the Hadoop engine to start the Hadoop Streaming client JVM.
//
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::analytics {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;     // stdout
};

// Runs argv[0] (searched in PATH) with `argv`, stdin from /dev/null, stderr appended to
// `stderr_path`. Errors: Unavailable when the program cannot be started.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::string& stderr_path);

// The last `max_lines` lines of a file (for error messages).
std::string TailOfFile(const std::string& path, size_t max_lines);

}  // namespace medhub::analytics
