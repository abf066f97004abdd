#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return medhub::cli::Run(std::vector<std::string>(argv + 1, argv + argc));
}
