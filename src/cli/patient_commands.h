// `medhub patient erase --data DIR [--member NAME] ID`: crypto-shredding of one patient
// (store::Store::ErasePatient). Returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace medhub::cli {

extern const char kPatientUsage[];

int RunPatient(const std::vector<std::string>& args);

}  // namespace medhub::cli
