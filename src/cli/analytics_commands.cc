#include "cli/analytics_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "analytics/generator.h"
#include "analytics/hadoop_engine.h"
#include "analytics/job.h"
#include "analytics/lake_input.h"
#include "analytics/local_engine.h"
#include "analytics/output.h"
#include "analytics/streaming.h"
#include "cli/flags.h"

#ifndef MEDHUB_SHARED_DATA
#define MEDHUB_SHARED_DATA "../shared/data"
#endif

namespace medhub::cli {
namespace {

constexpr char kAnalyticsUsage[] =
    R"(usage: medhub analytics list
       medhub analytics run JOB (--data DIR | --lake PATH|URL) [--engine local|hadoop]
                            [--out FILE] [--format csv|json] [--threads N] [--memory-mb N]
                            [--hadoop-lib DIR] [--hadoop-conf DIR] [--reducers N] [--stats]
                            [--hadoop-mode local|yarn]
  The lake is DIR/lake unless --lake names another folder, or for --engine hadoop a
  webhdfs://HOST:PORT/PATH or hdfs://HOST:PORT/PATH URL. The Hadoop engine needs the jars
  of deploy/hadoop (--hadoop-lib, default $MEDHUB_HADOOP_LIB) and java on PATH. It runs the
  Streaming jobs on the LocalJobRunner (--hadoop-mode local, default) or submits them to
  the YARN cluster of --hadoop-conf DIR (default $HADOOP_CONF_DIR; deploy/hadoop/start-yarn.sh).
  --stats prints bytes and lines read, time and MB/s on stderr.
)";

std::string SelfPath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

int Fail(const std::string& message) {
  std::cerr << "medhub: " << message << "\n";
  return 1;
}

int List() {
  for (const analytics::Job* job : analytics::BuiltinJobs()) {
    std::cout << job->name() << "\t" << job->description() << "\n";
  }
  return 0;
}

// Writes `data` to `path` through a temporary file and a rename: never half-written.
Status WriteAtomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    out.close();
    if (!out) return Status::Internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

void ReportStats(const analytics::RunStats& stats) {
  if (stats.bad_lines == 0) return;
  std::cerr << "medhub: skipped " << stats.bad_lines << " unreadable lake line(s)\n";
  for (const analytics::BadLine& b : stats.first_bad_lines) {
    std::cerr << "  " << b.file << ":" << b.line << ": " << b.error << "\n";
  }
}

Result<analytics::RunResult> RunEngine(const analytics::Job& job, const Flags& flags,
                                       const std::string& lake) {
  const std::string engine = flags.Get("engine", "local");
  if (engine == "hadoop") {
    analytics::HadoopOptions o;
    o.lake_url = lake;
    o.medhub_binary = SelfPath();
    const char* env_lib = std::getenv("MEDHUB_HADOOP_LIB");
    o.hadoop_lib = flags.Get("hadoop-lib", env_lib ? env_lib : "");
    const char* env_conf = std::getenv("HADOOP_CONF_DIR");
    o.conf_dir = flags.Get("hadoop-conf", env_conf ? env_conf : "");
    ASSIGN_OR_RETURN(uint64_t reducers, flags.GetUint("reducers", 2));
    o.reducers = static_cast<int>(std::min<uint64_t>(reducers, 64));
    const std::string mode = flags.Get("hadoop-mode", "local");
    if (mode != "local" && mode != "yarn") {
      return Status::InvalidArgument("--hadoop-mode must be local or yarn");
    }
    o.yarn = mode == "yarn";
    return analytics::RunHadoop(job, o);
  }
  if (engine != "local") return Status::InvalidArgument("--engine must be local or hadoop");
  analytics::EngineOptions o;
  ASSIGN_OR_RETURN(uint64_t threads, flags.GetUint("threads", 0));
  ASSIGN_OR_RETURN(uint64_t memory_mb, flags.GetUint("memory-mb", 512));
  o.threads = static_cast<unsigned>(std::min<uint64_t>(threads, 256));
  o.memory_limit_bytes = std::max<uint64_t>(memory_mb, 1) << 20;
  ASSIGN_OR_RETURN(auto files, analytics::LakeFiles(lake, job.input_types()));
  return analytics::RunLocal(job, files, o);
}

int Run(const std::vector<std::string>& args) {
  auto flags = Flags::Parse(args,
                            {"data", "lake", "engine", "out", "format", "threads", "memory-mb",
                             "hadoop-lib", "hadoop-conf", "reducers", "hadoop-mode"},
                            {"stats"});
  if (!flags.ok()) return Fail(flags.status().message() + "\n" + kAnalyticsUsage);
  if (flags->positional().size() != 1) return Fail(std::string("name one job\n") + kAnalyticsUsage);
  auto job = analytics::FindJob(flags->positional()[0]);
  if (!job.ok()) return Fail(job.status().message());
  const std::string format = flags->Get("format", "csv");
  if (format != "csv" && format != "json") return Fail("--format must be csv or json");
  std::string lake = flags->Get("lake");
  if (lake.empty()) {
    if (!flags->Has("data")) return Fail(std::string("give --data or --lake\n") + kAnalyticsUsage);
    lake = flags->Get("data") + "/lake";
  }
  const auto start = std::chrono::steady_clock::now();
  auto result = RunEngine(**job, *flags, lake);
  if (!result.ok()) return Fail(result.status().message());
  ReportStats(result->stats);
  if (flags->Has("stats")) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& st = result->stats;
    std::cerr << "medhub: " << (*job)->name() << ": " << st.input_bytes << " bytes, "
              << st.input_lines << " lines read in " << seconds << " s ("
              << (seconds > 0 ? static_cast<double>(st.input_bytes) / 1e6 / seconds : 0)
              << " MB/s), " << st.spilled_runs << " spilled runs, " << result->lines.size()
              << " rows\n";
  }
  const auto columns = (*job)->columns();
  const std::string text = format == "csv" ? analytics::FormatCsv(columns, result->lines)
                                           : analytics::FormatJson(columns, result->lines);
  if (flags->Has("out")) {
    if (Status s = WriteAtomically(flags->Get("out"), text); !s.ok()) return Fail(s.message());
  } else {
    std::cout << text;
  }
  return 0;
}

}  // namespace

int RunAnalytics(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::cout << kAnalyticsUsage;
    return args.empty() ? 1 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "list") return List();
  if (args[0] == "run") return Run(rest);
  return Fail("unknown analytics command '" + args[0] + "'\n" + kAnalyticsUsage);
}

int RunMr(const std::vector<std::string>& args) {
  constexpr char kUsage[] = "usage: medhub mr map|combine|reduce JOB [--stage N]\n";
  if (args.size() < 2) return Fail(kUsage);
  analytics::StreamingRole role;
  if (args[0] == "map") {
    role = analytics::StreamingRole::kMap;
  } else if (args[0] == "combine") {
    role = analytics::StreamingRole::kCombine;
  } else if (args[0] == "reduce") {
    role = analytics::StreamingRole::kReduce;
  } else {
    return Fail(std::string("unknown role '") + args[0] + "'\n" + kUsage);
  }
  auto flags = Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()), {"stage"});
  if (!flags.ok()) return Fail(flags.status().message());
  if (flags->positional().size() != 1) return Fail(kUsage);
  auto job = analytics::FindJob(flags->positional()[0]);
  if (!job.ok()) return Fail(job.status().message());
  auto stage = flags->GetUint("stage", 1);
  if (!stage.ok()) return Fail(stage.status().message());
  std::ios::sync_with_stdio(false);
  const int stage_number = static_cast<int>(std::min<uint64_t>(*stage, 1000));
  const Status s =
      analytics::RunStreaming(**job, stage_number, role, std::cin, std::cout, std::cerr);
  if (!s.ok()) return Fail(s.message());
  return 0;
}

int RunGen(const std::vector<std::string>& args) {
  constexpr char kUsage[] =
      "usage: medhub gen --patients N --seed S --out DIR [--sample DIR] [--types T1,T2,...]\n"
      "  Writes N synthetic patients scaled from the Synthea sample (default the shared\n"
      "  data) as a lake folder at DIR. The same N, S and sample give the same bytes.\n";
  auto flags = Flags::Parse(args, {"patients", "seed", "out", "sample", "types"});
  if (!flags.ok()) return Fail(flags.status().message() + "\n" + kUsage);
  if (!flags->Has("patients") || !flags->Has("out")) return Fail(kUsage);
  analytics::GenOptions o;
  auto patients = flags->GetUint("patients", 0);
  auto seed = flags->GetUint("seed", 1);
  if (!patients.ok()) return Fail(patients.status().message());
  if (!seed.ok()) return Fail(seed.status().message());
  o.patients = *patients;
  o.seed = *seed;
  o.out_dir = flags->Get("out");
  o.bundles_dir = flags->Get("sample", std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea");
  if (flags->Has("types")) {
    std::string list = flags->Get("types");
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      if (comma > start) o.types.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
  auto stats = analytics::GeneratePopulation(o);
  if (!stats.ok()) return Fail(stats.status().message());
  std::cout << "generated " << stats->patients << " patients, " << stats->resources
            << " resources, " << stats->devices << " devices, " << stats->bytes << " bytes in "
            << o.out_dir << "\n";
  return 0;
}

}  // namespace medhub::cli
