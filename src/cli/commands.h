// The `medhub` command line: one binary, one subcommand per job.
#pragma once

#include <string>
#include <vector>

namespace medhub::cli {

// Runs `medhub <args...>` (args excludes the program name); returns the exit code.
int Run(const std::vector<std::string>& args);

int RunServe(const std::vector<std::string>& args);
int RunDemo(const std::vector<std::string>& args);
int RunImport(const std::vector<std::string>& args);

}  // namespace medhub::cli
