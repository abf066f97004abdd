// Analytics jobs: map and reduce functions over FHIR resources, with text keys and values
// so that the very same job runs in the in-process engine (local_engine.h) and under
// Hadoop Streaming (streaming.h, `medhub mr map|combine|reduce JOB`).
//
// A job is one or more stages. Stage 1 maps one lake line (one FHIR resource as compact
// JSON) at a time; stage N > 1 maps the "key\tvalue" lines that stage N-1's reduce wrote.
// Keys never contain '\t' or '\n' (they are Hadoop Streaming keys, compared as raw bytes);
// values never contain '\n'. Reduce sees all values of one key in an unspecified order,
// so every reduce and combine must be insensitive to value order. A combine turns some
// values of one key into fewer values of the same key and must be safe to apply zero or
// more times. The last stage's reduce emits output rows: key and value together split on
// '\t' and '|' give the job's columns (Job::columns).
//
// Thread-safety: jobs are immutable after construction; Map/Combine/Reduce are const and
// may run concurrently on many threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace medhub::analytics {

// Receives (key, value) pairs.
using Emit = std::function<void(std::string_view key, std::string_view value)>;

// Counters a map or reduce raises (e.g. "corrupt_lines"); the engines add them up and
// Hadoop Streaming reports them as reporter:counter:medhub,NAME,N.
class Counters {
 public:
  virtual ~Counters() = default;
  virtual void Add(std::string_view name, int64_t n) = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Maps one input record. Stage 1: a resource's JSON text; later stages: "key\tvalue".
  // Returns InvalidArgument for a record it cannot read (the engine counts and skips it).
  virtual Status Map(std::string_view record, const Emit& emit, Counters* counters) const = 0;
  virtual bool has_combiner() const { return false; }
  virtual void Combine(std::string_view key, const std::vector<std::string_view>& values,
                       const Emit& emit) const;
  virtual void Reduce(std::string_view key, const std::vector<std::string_view>& values,
                      const Emit& emit, Counters* counters) const = 0;
};

class Job {
 public:
  virtual ~Job() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // Output column names, in order.
  virtual std::vector<std::string> columns() const = 0;
  virtual const std::vector<std::unique_ptr<Stage>>& stages() const = 0;
  // The resource types stage 1 reads: the engines read only these folders of the lake.
  virtual std::vector<std::string> input_types() const = 0;
};

// The built-in jobs, in a fixed order.
const std::vector<const Job*>& BuiltinJobs();
// The job named `name`; NotFound listing the known names otherwise.
Result<const Job*> FindJob(std::string_view name);

}  // namespace medhub::analytics
