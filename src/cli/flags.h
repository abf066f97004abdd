// A small command-line flag parser: `--name value`, `--name=value` and positional
// arguments. Unknown flags are errors, so typos never pass silently.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::cli {

class Flags {
 public:
  // `known` lists the flags that take a value; `switches` those that do not.
  static Result<Flags> Parse(const std::vector<std::string>& args,
                             const std::set<std::string>& known,
                             const std::set<std::string>& switches = {});

  bool Has(const std::string& name) const { return values_.contains(name); }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // The value as a non-negative integer; InvalidArgument when malformed.
  Result<uint64_t> GetUint(const std::string& name, uint64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace medhub::cli
