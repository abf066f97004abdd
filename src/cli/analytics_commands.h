// `medhub analytics list|run`, `medhub mr map|combine|reduce` (the Hadoop Streaming side)
// and `medhub gen` (a scaled synthetic population as a lake). Each returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace medhub::cli {

int RunAnalytics(const std::vector<std::string>& args);
int RunMr(const std::vector<std::string>& args);
int RunGen(const std::vector<std::string>& args);

}  // namespace medhub::cli
