// The Hadoop Streaming side of a job: `medhub mr map|combine|reduce JOB [--stage N]`.
//
// Protocol (Hadoop Streaming, -io text): the mapper reads input records one per line on
// stdin (stage 1: lake NDJSON lines; stage N > 1: "key\tvalue" lines written by stage N-1)
// and writes "key\tvalue" lines on stdout. The combiner and the reducer read "key\tvalue"
// lines sorted by key (all values of a key adjacent) and write "key\tvalue" lines.
// Counters go to stderr as "reporter:counter:medhub,NAME,N" when the program ends; each bad
// input line is reported on stderr as "medhub: FILE:LINE: error" (FILE from Hadoop's
// mapreduce_map_input_file, else "stdin"; LINE counts lines this process read).
//
// Thread-safety: single-threaded; one call per process.
#pragma once

#include <istream>
#include <ostream>

#include "analytics/job.h"
#include "core/status.h"

namespace medhub::analytics {

enum class StreamingRole { kMap, kCombine, kReduce };

// Runs stage `stage` (1-based) of `job` in `role` over `in`. Errors: InvalidArgument for a
// stage number the job does not have.
Status RunStreaming(const Job& job, int stage, StreamingRole role, std::istream& in,
                    std::ostream& out, std::ostream& err);

}  // namespace medhub::analytics
