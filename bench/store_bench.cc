// store_bench: medhub's store against PostgreSQL 15 holding the same resources as JSONB
// ("the traditional store"), both measured in the same run (docs/benchmarks.md).
//
//   store_bench [--copies N] [--sample DIR] [--pg CONNINFO | --no-pg] [--json FILE]
//               [--work DIR] [--threads N] [--reads N] [--searches N] [--everything-runs N]
//               [--no-encryption | --compare-encryption] [--no-bulk] [--warmup-copies N]
//
// medhub's store is encrypted at rest (a random master key per run). --no-encryption
// measures a plaintext store instead; --compare-encryption runs phase 1 a second time on a
// plaintext store first, in the same process, and prints the cost of encryption as ratios.
//
// Warm-up: before each store's measured import, --warmup-copies copies (default: as many
// as --copies; 0 for none) are imported the same way and thrown away (medhub: a store of
// its own, deleted; PostgreSQL: the same table, then TRUNCATE), so that neither store's
// figure includes the machine's first touches after idle (on the benchmark VM a run after
// a pause of a few seconds costs up to 50% more CPU per resource than one right after
// another: docs/benchmarks.md) and each store runs as a server that has been running would.
//
// Phases, in this order:
//  1. medhub: durable import of N copies of the sample Bundles into a fresh RocksDB store
//     (sync_writes), each Bundle one FhirApi::ProcessBundle transaction with fresh ids
//     that replies with the assigned ids only (BundleReply::kIds; `medhub import` asks for
//     nothing, kNone),
//     inside Store::BeginBulkLoad .. EndBulkLoad like `medhub import` (--no-bulk: each
//     commit written and fsynced on its own, the path of `medhub serve`);
//     then peak RSS; then reads (in-process and over HTTP on loopback), searches and
//     $everything through FhirApi::Handle.
//  2. PostgreSQL: the same resources loaded with COPY (one transaction per Bundle) after the
//     same client-side work (parse, fresh ids, reference rewriting, serialization) into a
//     JSONB table whose indexes exist before the load; then the equivalent queries.
// Every failure (a libpq error, a non-200 answer, a missing row) exits non-zero.
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/importer.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/status.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "store/store.h"
#include "support/http_client.h"

#ifdef MEDHUB_BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

namespace medhub::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The search every store answers: one patient's body weights since 2010, newest first.
constexpr char kSearchSystem[] = "http://loinc.org";
constexpr char kSearchCode[] = "29463-7";
constexpr char kSearchSince[] = "2010-01-01";
constexpr size_t kSearchPage = 50;  // medhub's default _count; the SQL uses LIMIT 50

// ---------------------------------------------------------------------------------------
// Options

struct Options {
  int copies = 4;
  std::string sample = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  std::string pg;  // libpq conninfo; "" skips PostgreSQL
  bool no_pg = false;
  std::string json_path;
  std::string work = std::filesystem::temp_directory_path().string();
  int threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  size_t reads = 2000;
  size_t searches = 200;
  size_t everything_runs = 50;
  // How PostgreSQL is loaded: "copy" (COPY FROM STDIN, PostgreSQL's fastest path) or
  // "insert" (one prepared INSERT per resource, the path of a FHIR server such as HAPI).
  std::string pg_load = "copy";
  // Encryption at rest: medhub runs encrypted (a random master key per run) unless
  // --no-encryption; --compare-encryption runs medhub a second time without encryption in
  // the same process and prints the cost as ratios.
  bool no_encryption = false;
  bool compare_encryption = false;
  // The import runs as a bulk load (Store::BeginBulkLoad), as `medhub import` does, unless
  // --no-bulk: then every Bundle is its own fsynced commit, as under `medhub serve`.
  bool no_bulk = false;
  size_t bulk_chunk_kb = 16384;  // --bulk-chunk-kb, like `medhub import`
  size_t warmup_copies = kAsCopies;  // imported into each store and thrown away first
  static constexpr size_t kAsCopies = SIZE_MAX;
  size_t WarmupCopies() const {
    return warmup_copies == kAsCopies ? static_cast<size_t>(copies) : warmup_copies;
  }
};

constexpr char kUsage[] =
    "usage: store_bench [--copies N] [--sample DIR] [--pg CONNINFO | --no-pg] [--json FILE]\n"
    "                   [--work DIR] [--threads N] [--reads N] [--searches N]\n"
    "                   [--everything-runs N] [--pg-load copy|insert]\n"
    "                   [--no-encryption | --compare-encryption] [--no-bulk]\n"
    "                   [--bulk-chunk-kb N] [--warmup-copies N]\n";

Result<size_t> ParseCount(std::string_view name, const std::string& text, size_t min) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min)
    return Status::InvalidArgument("--" + std::string(name) + " wants an integer >= " +
                                   std::to_string(min) + ", got '" + text + "'");
  return static_cast<size_t>(v);
}

Status ApplyOption(const std::string& name, const std::string& value, Options* o) {
  const std::pair<const char*, std::string*> strings[] = {{"sample", &o->sample},
                                                          {"pg", &o->pg},
                                                          {"json", &o->json_path},
                                                          {"work", &o->work},
                                                          {"pg-load", &o->pg_load}};
  for (const auto& [n, field] : strings) {
    if (name == n) {
      *field = value;
      return Status::Ok();
    }
  }
  const std::pair<const char*, size_t*> counts[] = {
      {"reads", &o->reads},
      {"searches", &o->searches},
      {"everything-runs", &o->everything_runs},
      {"bulk-chunk-kb", &o->bulk_chunk_kb},
      {"warmup-copies", &o->warmup_copies}};
  for (const auto& [n, field] : counts) {
    if (name == n) {
      ASSIGN_OR_RETURN(*field, ParseCount(name, value, field == &o->warmup_copies ? 0 : 1));
      return Status::Ok();
    }
  }
  const std::pair<const char*, int*> small[] = {{"copies", &o->copies}, {"threads", &o->threads}};
  for (const auto& [n, field] : small) {
    if (name == n) {
      ASSIGN_OR_RETURN(size_t v, ParseCount(name, value, 1));
      if (v > 1000) return Status::InvalidArgument("--" + name + " is at most 1000");
      *field = static_cast<int>(v);
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown option --" + name);
}

Result<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-pg" || arg == "--no-bulk") {
      (arg == "--no-pg" ? o.no_pg : o.no_bulk) = true;
      continue;
    }
    if (arg == "--no-encryption" || arg == "--compare-encryption") {
      (arg == "--no-encryption" ? o.no_encryption : o.compare_encryption) = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") return Status::InvalidArgument("help");
    if (!arg.starts_with("--")) return Status::InvalidArgument("unexpected argument " + arg);
    std::string name = arg.substr(2), value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Status::InvalidArgument(arg + " needs a value");
    }
    RETURN_IF_ERROR(ApplyOption(name, value, &o));
  }
  if (o.no_pg) o.pg.clear();
  if (o.pg_load != "copy" && o.pg_load != "insert")
    return Status::InvalidArgument("--pg-load is copy or insert, not '" + o.pg_load + "'");
  return o;
}

// ---------------------------------------------------------------------------------------
// Machine, memory, statistics

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string Kernel() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

// User + system CPU seconds of this process so far (all threads).
double CpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Minor page faults of this process so far (first touches of memory, mostly).
uint64_t MinorFaults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_minflt);
}

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

uint64_t CurrentRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Latency {
  size_t n = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
};

// Nearest-rank percentiles of samples in milliseconds.
Latency Summarize(std::vector<double> ms) {
  Latency l;
  l.n = ms.size();
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double p) {
    const size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<size_t>(r, 1, ms.size()) - 1];
  };
  l.p50_ms = rank(0.50);
  l.p99_ms = rank(0.99);
  double sum = 0;
  for (double v : ms) sum += v;
  l.mean_ms = sum / static_cast<double>(ms.size());
  return l;
}

// Runs `op(i)` for i in [0, n) and returns each call's latency in milliseconds. The first
// error stops the run.
Result<Latency> Measure(size_t n, const std::function<Status(size_t)>& op) {
  std::vector<double> ms;
  ms.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto start = Clock::now();
    Status s = op(i);
    ms.push_back(Seconds(start) * 1e3);
    if (!s.ok()) return s;
  }
  return Summarize(std::move(ms));
}

// ---------------------------------------------------------------------------------------
// The sample and the plan of what to load

struct SampleFile {
  std::string path;
  std::string text;
  size_t entries = 0;
  size_t patient_entry = 0;  // index of the Patient entry
};

struct Sample {
  std::vector<SampleFile> files;
  size_t resources = 0;  // per copy
  uint64_t bytes = 0;    // per copy
  size_t largest = 0;    // index of the file with the most entries
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status DescribeFile(SampleFile* f) {
  auto doc = json::Parse(f->text);
  if (!doc.ok()) return doc.status().WithPrefix(f->path);
  const json::Value* entries = doc->find("entry");
  if (fhir::ResourceType(*doc) != "Bundle" || doc->get_string("type") != "transaction" ||
      entries == nullptr || !entries->is_array())
    return Status::InvalidArgument(f->path + ": not a transaction Bundle");
  f->entries = entries->items().size();
  for (size_t i = 0; i < f->entries; ++i) {
    const json::Value* r = entries->items()[i].find("resource");
    if (r != nullptr && fhir::ResourceType(*r) == "Patient") {
      f->patient_entry = i;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(f->path + ": has no Patient");
}

Result<Sample> LoadSample(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, cli::Importer::ListFiles({dir}));
  if (paths.empty()) return Status::NotFound("no .json files in " + dir);
  Sample s;
  for (const std::string& p : paths) {
    SampleFile f;
    f.path = p;
    f.text = ReadFile(p);
    RETURN_IF_ERROR(DescribeFile(&f));
    s.resources += f.entries;
    s.bytes += f.text.size();
    if (s.files.empty() || f.entries > s.files[s.largest].entries) s.largest = s.files.size();
    s.files.push_back(std::move(f));
  }
  return s;
}

// Where each loaded resource ended up in one store: per work item (copy-major: item k is
// copy k / files of file k % files), "Type/id" of every entry in Bundle order.
struct LoadedIds {
  std::vector<std::vector<std::string>> refs;
  std::vector<std::string> patients;  // the Patient id of each work item

  size_t Count() const {
    size_t n = 0;
    for (const auto& r : refs) n += r.size();
    return n;
  }
};

struct ImportFigures {
  double seconds = 0;
  size_t resources = 0;
  uint64_t bytes = 0;
  double ResourcesPerSecond() const { return seconds > 0 ? resources / seconds : 0; }
  double MegabytesPerSecond() const { return seconds > 0 ? bytes / 1e6 / seconds : 0; }
};

// Runs `load(item)` for every work item on `threads` threads; the first error wins.
Status RunParallel(size_t items, int threads, const std::function<Status(size_t, int)>& load) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status failure;
  auto worker = [&](int t) {
    for (size_t k = next++; k < items; k = next++) {
      Status s = load(k, t);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (failure.ok()) failure = s;
        next = items;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();
  return failure;
}

// "Patient/abc" -> "abc"
std::string IdOf(std::string_view ref) { return std::string(ref.substr(ref.find('/') + 1)); }

std::pair<std::string_view, std::string_view> SplitRef(std::string_view ref) {
  const size_t slash = ref.find('/');
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

// ---------------------------------------------------------------------------------------
// medhub

struct MedhubFigures {
  ImportFigures import;
  uint64_t rss_before_import = 0;
  uint64_t peak_rss = 0;
  uint64_t disk_bytes = 0;
  Latency read;
  Latency http_read;
  Latency search;
  Latency everything;
  size_t search_matches = 0;      // entries returned, summed over the searches
  size_t everything_entries = 0;  // resources in the largest patient's $everything
  double import_cpu_seconds = 0;  // process CPU time (user + system) during the import
  uint64_t import_minor_faults = 0;
};

struct MedhubStore {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<server::FhirApi> api;
};

// The "Type/id" of each entry from each transaction's BundleOutcome::entry_ids (what
// `medhub import` asks for, BundleReply::kNone, is even less: no response is built).
Result<LoadedIds> ParseEntryIds(const std::vector<std::string>& responses, const Sample& sample) {
  LoadedIds ids;
  for (size_t k = 0; k < responses.size(); ++k) {
    const SampleFile& f = sample.files[k % sample.files.size()];
    std::vector<std::string> refs;
    std::string_view lines = responses[k];
    while (!lines.empty()) {
      const size_t nl = lines.find('\n');
      refs.emplace_back(lines.substr(0, nl));
      lines.remove_prefix(nl == std::string_view::npos ? lines.size() : nl + 1);
    }
    if (refs.size() != f.entries)
      return Status::Internal("transaction of " + f.path + " has the wrong entries");
    ids.patients.push_back(IdOf(refs[f.patient_entry]));
    ids.refs.push_back(std::move(refs));
  }
  return ids;
}

Result<ImportFigures> MedhubImport(store::Store* store, server::FhirApi* api, const Sample& sample,
                                   const Options& o, LoadedIds* ids) {
  const size_t items = sample.files.size() * static_cast<size_t>(o.copies);
  std::vector<std::string> responses(items);
  auto load = [&](size_t k, int) -> Status {
    const SampleFile& f = sample.files[k % sample.files.size()];
    auto bundle = fhir::ParseResource(f.text);
    if (!bundle.ok()) return bundle.status().WithPrefix(f.path);
    auto out = api->ProcessBundle(std::move(bundle).value(), /*keep_ids=*/false,
                                  server::BundleReply::kIds);
    if (!out.ok()) return out.status().WithPrefix(f.path);
    if (out->failed != 0) return Status::Internal(f.path + ": entries failed");
    responses[k] = std::move(out->entry_ids);
    return Status::Ok();
  };
  const auto start = Clock::now();
  if (!o.no_bulk) RETURN_IF_ERROR(store->BeginBulkLoad(o.bulk_chunk_kb << 10));
  RETURN_IF_ERROR(RunParallel(items, o.threads, load));
  if (!o.no_bulk) RETURN_IF_ERROR(store->EndBulkLoad());  // durable from here
  ImportFigures fig;
  fig.seconds = Seconds(start);
  fig.resources = sample.resources * static_cast<size_t>(o.copies);
  fig.bytes = sample.bytes * static_cast<uint64_t>(o.copies);
  ASSIGN_OR_RETURN(*ids, ParseEntryIds(responses, sample));
  return fig;
}

Status Expect200(const server::HttpResponse& r, std::string_view what) {
  if (r.status == 200) return Status::Ok();
  return Status::Internal(std::string(what) + ": HTTP " + std::to_string(r.status) + ": " +
                          r.body.substr(0, 300));
}

// Random picks into the flattened list of loaded resources, the same for both stores.
std::vector<std::pair<size_t, size_t>> PickResources(const LoadedIds& ids, size_t n) {
  std::vector<std::pair<size_t, size_t>> all;
  for (size_t k = 0; k < ids.refs.size(); ++k)
    for (size_t e = 0; e < ids.refs[k].size(); ++e) all.emplace_back(k, e);
  std::mt19937_64 rng(20240601);
  std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < n; ++i) out.push_back(all[pick(rng)]);
  return out;
}

// The work items whose patients are searched, spread over all patients.
std::vector<size_t> PickPatients(size_t items, size_t n) {
  std::vector<size_t> order(items);
  for (size_t i = 0; i < items; ++i) order[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(order[i % items]);
  return out;
}

Status MedhubReads(store::Store* store, const LoadedIds& ids,
                   const std::vector<std::pair<size_t, size_t>>& picks, Latency* out) {
  auto read = [&](size_t i) -> Status {
    auto [type, id] = SplitRef(ids.refs[picks[i].first][picks[i].second]);
    auto r = store->Read(type, id);
    if (!r.ok()) return r.status().WithPrefix("Store::Read");
    if (r->json.empty()) return Status::Internal("Store::Read returned no content");
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(std::min<size_t>(200, picks.size()), read).status());  // warm-up
  ASSIGN_OR_RETURN(*out, Measure(picks.size(), read));
  return Status::Ok();
}

Status MedhubHttpReads(server::FhirApi* api, const LoadedIds& ids,
                       const std::vector<std::pair<size_t, size_t>>& picks, Latency* out) {
  server::HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  auto server = server::HttpServer::Start(
      options,
      [api](const server::HttpRequest& req) {
        if (req.path == "/fhir" || req.path.starts_with("/fhir/")) return api->Handle(req);
        return server::HttpResponse{404, {}, "not found"};
      },
      [](int status, std::string_view message) {
        return server::HttpResponse{status, {}, std::string(message)};
      });
  if (!server.ok()) return server.status().WithPrefix("HttpServer::Start");
  testing::HttpClient client("127.0.0.1", (*server)->port());
  auto read = [&](size_t i) -> Status {
    const std::string& ref = ids.refs[picks[i].first][picks[i].second];
    testing::ClientResponse r = client.Get("/fhir/" + ref);
    if (r.status != 200)
      return Status::Internal("GET /fhir/" + ref + ": HTTP " + std::to_string(r.status));
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(std::min<size_t>(200, picks.size()), read).status());  // warm-up
  ASSIGN_OR_RETURN(*out, Measure(picks.size(), read));
  (*server)->Shutdown();
  (*server)->Wait();
  return Status::Ok();
}

// The number of entries of a searchset Bundle.
Result<size_t> BundleEntries(const std::string& body) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.status().WithPrefix("searchset");
  const json::Value* entries = doc->find("entry");
  return entries ? entries->items().size() : 0;
}

Status MedhubSearches(server::FhirApi* api, const LoadedIds& ids,
                      const std::vector<size_t>& patients, MedhubFigures* fig) {
  std::vector<std::string> bodies(patients.size());
  auto search = [&](size_t i) -> Status {
    server::HttpResponse r = api->Handle(server::HttpRequest::Get(
        "/fhir/Observation?patient=" + ids.patients[patients[i]] + "&code=" + kSearchSystem + "|" +
        kSearchCode + "&date=ge" + kSearchSince + "&_sort=-date"));
    RETURN_IF_ERROR(Expect200(r, "search"));
    bodies[i] = std::move(r.body);
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(std::min<size_t>(20, patients.size()), search).status());  // warm-up
  ASSIGN_OR_RETURN(fig->search, Measure(patients.size(), search));
  for (const std::string& body : bodies) {
    ASSIGN_OR_RETURN(size_t n, BundleEntries(body));
    fig->search_matches += n;
  }
  return Status::Ok();
}

Status MedhubEverything(server::FhirApi* api, const std::string& patient, size_t runs,
                        MedhubFigures* fig) {
  std::string body;
  auto everything = [&](size_t) -> Status {
    server::HttpResponse r =
        api->Handle(server::HttpRequest::Get("/fhir/Patient/" + patient + "/$everything"));
    RETURN_IF_ERROR(Expect200(r, "$everything"));
    body = std::move(r.body);
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(3, everything).status());  // warm-up
  ASSIGN_OR_RETURN(fig->everything, Measure(runs, everything));
  ASSIGN_OR_RETURN(fig->everything_entries, BundleEntries(body));
  return Status::Ok();
}

struct Workload {
  std::vector<std::pair<size_t, size_t>> reads;
  std::vector<size_t> search_items;
  size_t largest_item = 0;  // work item of the largest patient (copy 0)
};

// Options for a warm-up import: o.WarmupCopies() copies, otherwise as measured.
Options WarmupOptions(const Options& o) {
  Options w = o;
  w.copies = static_cast<int>(o.WarmupCopies());
  return w;
}

// The warm-up import into a store of its own, deleted afterwards (see the file comment).
Status MedhubWarmup(const Sample& sample, const Options& o, const std::filesystem::path& dir,
                    bool encrypted) {
  if (o.WarmupCopies() == 0) return Status::Ok();
  Status status;
  {
    store::StoreOptions so;
    so.path = dir.string();
    so.sync_writes = true;
    so.master_key = encrypted ? RandomBytes(32) : std::string();
    so.plaintext_for_benchmarks = !encrypted;
    auto store = store::OpenRocksStore(so);
    status = store.status();
    if (status.ok()) {
      server::FhirApi api(store->get(), server::FhirApiOptions{"http://127.0.0.1/fhir"});
      LoadedIds ids;
      status = MedhubImport(store->get(), &api, sample, WarmupOptions(o), &ids).status();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return status.WithPrefix("medhub warm-up");
}

Result<MedhubFigures> RunMedhub(const Sample& sample, const Options& o,
                                const std::filesystem::path& dir, LoadedIds* ids, Workload* work,
                                bool encrypted) {
  MedhubFigures fig;
  fig.rss_before_import = CurrentRssBytes();
  store::StoreOptions so;
  so.path = dir.string();
  so.sync_writes = true;
  so.master_key = encrypted ? RandomBytes(32) : std::string();
  so.plaintext_for_benchmarks = !encrypted;
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenRocksStore(so));
  server::FhirApi api(store.get(), server::FhirApiOptions{"http://127.0.0.1/fhir"});
  const double cpu_before = CpuSeconds();
  const uint64_t faults_before = MinorFaults();
  ASSIGN_OR_RETURN(fig.import, MedhubImport(store.get(), &api, sample, o, ids));
  fig.import_cpu_seconds = CpuSeconds() - cpu_before;
  fig.import_minor_faults = MinorFaults() - faults_before;
  fig.peak_rss = PeakRssBytes();
  fig.disk_bytes = DirectoryBytes(dir);
  std::cout << "  medhub import (" << (encrypted ? "encrypted" : "no encryption")
            << (o.no_bulk ? ", per-commit writes" : ", bulk load") << "): " << fig.import.resources
            << " resources in " << fig.import.seconds << " s, "
            << (fig.import.resources ? fig.import_cpu_seconds * 1e6 / fig.import.resources : 0.0)
            << " CPU us/resource, " << fig.import_minor_faults << " minor page faults" << std::endl;

  work->reads = PickResources(*ids, o.reads);
  work->search_items = PickPatients(ids->patients.size(), o.searches);
  work->largest_item = sample.largest;
  RETURN_IF_ERROR(MedhubReads(store.get(), *ids, work->reads, &fig.read));
  RETURN_IF_ERROR(MedhubHttpReads(&api, *ids, work->reads, &fig.http_read));
  RETURN_IF_ERROR(MedhubSearches(&api, *ids, work->search_items, &fig));
  RETURN_IF_ERROR(
      MedhubEverything(&api, ids->patients[work->largest_item], o.everything_runs, &fig));
  return fig;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

struct PgFigures {
  std::string server_version;
  std::string settings;  // fsync, synchronous_commit, shared_buffers, ...
  ImportFigures import;
  double analyze_seconds = 0;
  uint64_t disk_bytes = 0;  // table + indexes + TOAST (WAL not included)
  Latency read;
  Latency search;
  Latency everything;
  size_t search_matches = 0;
  size_t everything_rows = 0;
};

#ifdef MEDHUB_BENCH_HAVE_PG

constexpr char kTable[] = "medhub_bench_resource";

struct PgConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;
using PgResult = std::unique_ptr<PGresult, PgResultClearer>;

std::string PgError(PGconn* c) {
  std::string msg = PQerrorMessage(c);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

Result<PgConn> PgConnect(const std::string& conninfo) {
  PgConn c(PQconnectdb(conninfo.c_str()));
  if (c == nullptr) return Status::Unavailable("PostgreSQL: out of memory");
  if (PQstatus(c.get()) != CONNECTION_OK)
    return Status::Unavailable("PostgreSQL: cannot connect: " + PgError(c.get()));
  return c;
}

Status CheckResult(PGconn* c, const PgResult& r, ExecStatusType want, std::string_view what) {
  if (r != nullptr && PQresultStatus(r.get()) == want) return Status::Ok();
  return Status::Internal("PostgreSQL: " + std::string(what) + ": " + PgError(c));
}

Result<PgResult> PgExec(PGconn* c, const std::string& sql, ExecStatusType want) {
  PgResult r(PQexec(c, sql.c_str()));
  RETURN_IF_ERROR(CheckResult(c, r, want, sql.substr(0, 80)));
  return r;
}

Status PgRun(PGconn* c, const std::string& sql) {
  return PgExec(c, sql, PGRES_COMMAND_OK).status();
}

Result<std::string> PgScalar(PGconn* c, const std::string& sql) {
  ASSIGN_OR_RETURN(PgResult r, PgExec(c, sql, PGRES_TUPLES_OK));
  if (PQntuples(r.get()) != 1) return Status::Internal("PostgreSQL: expected one row: " + sql);
  return std::string(PQgetvalue(r.get(), 0, 0));
}

Result<PgResult> PgExecPrepared(PGconn* c, const char* name,
                                const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PgResult r(
      PQexecPrepared(c, name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
  RETURN_IF_ERROR(CheckResult(c, r, PGRES_TUPLES_OK, name));
  return r;
}

Status PgPrepare(PGconn* c, const char* name, const std::string& sql, int params) {
  PgResult r(PQprepare(c, name, sql.c_str(), params, nullptr));
  return CheckResult(c, r, PGRES_COMMAND_OK, std::string("prepare ") + name);
}

// The observation date as an indexable timestamptz. The cast is only STABLE (it depends on
// the session's TimeZone for zone-less text); FHIR dateTimes with a time carry a zone.
std::string DateExpr() { return "medhub_bench_instant(content->>'effectiveDateTime')"; }

Status PgCreateSchema(PGconn* c) {
  const std::string t = kTable;
  const std::vector<std::string> ddl = {
      "SET client_min_messages = warning",
      "DROP TABLE IF EXISTS " + t,
      "CREATE OR REPLACE FUNCTION medhub_bench_instant(text) RETURNS timestamptz "
      "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT $1::timestamptz $$",
      "CREATE TABLE " + t +
          " (type text NOT NULL, id text NOT NULL, version int NOT NULL, "
          "last_updated timestamptz NOT NULL, patient_id text, content jsonb NOT NULL, "
          "PRIMARY KEY (type, id))",
      "CREATE INDEX " + t + "_patient ON " + t + " (patient_id, type)",
      "CREATE INDEX " + t + "_content ON " + t + " USING gin (content jsonb_path_ops)",
      "CREATE INDEX " + t + "_obs_date ON " + t + " (" + DateExpr() +
          ") WHERE type = 'Observation'",
  };
  for (const std::string& sql : ddl) RETURN_IF_ERROR(PgRun(c, sql));
  return Status::Ok();
}

// Appends `s` escaped for COPY's text format.
void AppendCopyField(std::string_view s, std::string* out) {
  for (char ch : s) {
    switch (ch) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->push_back(ch);
    }
  }
}

// Replaces bundle-local references (fullUrl) by "Type/id", as the FHIR server does.
void RewriteReferences(json::Value* v, const std::map<std::string, std::string>& ids) {
  if (v->is_array()) {
    for (json::Value& item : v->items()) RewriteReferences(&item, ids);
  } else if (v->is_object()) {
    for (auto& [k, child] : v->members()) {
      if (k == "reference" && child.is_string()) {
        auto it = ids.find(child.text());
        if (it != ids.end()) child = json::Value::String(it->second);
      } else {
        RewriteReferences(&child, ids);
      }
    }
  }
}

void SetMeta(json::Value* resource, const std::string& last_updated) {
  json::Value* meta = resource->find("meta");
  if (meta == nullptr || !meta->is_object()) meta = &resource->set("meta", json::Value::Object());
  meta->set("versionId", json::Value::String("1"));
  meta->set("lastUpdated", json::Value::String(last_updated));
}

// The client-side work of a FHIR server in front of PostgreSQL: parse the Bundle, assign
// fresh ids, rewrite references, serialize, and build COPY rows. Fills `refs`.
Result<std::string> BuildCopyRows(const SampleFile& f, std::vector<std::string>* refs) {
  ASSIGN_OR_RETURN(json::Value bundle, json::Parse(f.text));
  json::Value* entries = bundle.find("entry");
  if (entries == nullptr) return Status::InvalidArgument(f.path + ": no entries");
  std::map<std::string, std::string> ids;
  refs->clear();
  for (json::Value& e : entries->items()) {
    json::Value* r = e.find("resource");
    if (r == nullptr) return Status::InvalidArgument(f.path + ": an entry has no resource");
    std::string ref = std::string(fhir::ResourceType(*r)) + "/" + NewId();
    r->set("id", json::Value::String(IdOf(ref)));
    ids[std::string(e.get_string("fullUrl"))] = ref;
    refs->push_back(std::move(ref));
  }
  const std::string now = FormatInstant(NowMicros());
  std::string rows;
  rows.reserve(f.text.size());
  for (size_t i = 0; i < entries->items().size(); ++i) {
    json::Value& r = *entries->items()[i].find("resource");
    RewriteReferences(&r, ids);
    SetMeta(&r, now);
    const std::vector<std::string> patients = fhir::PatientCompartmentsOf(r);
    auto [type, id] = SplitRef((*refs)[i]);
    rows.append(type).push_back('\t');
    rows.append(id).append("\t1\t").append(now).push_back('\t');
    rows.append(patients.empty() ? "\\N" : patients.front()).push_back('\t');
    AppendCopyField(json::Serialize(r), &rows);
    rows.push_back('\n');
  }
  return rows;
}

// One COPY statement in autocommit mode: one durable transaction per Bundle.
Status PgCopy(PGconn* c, const std::string& rows) {
  const std::string sql = std::string("COPY ") + kTable +
                          " (type, id, version, last_updated, patient_id, content) FROM STDIN";
  RETURN_IF_ERROR(PgExec(c, sql, PGRES_COPY_IN).status());
  if (PQputCopyData(c, rows.data(), static_cast<int>(rows.size())) != 1 ||
      PQputCopyEnd(c, nullptr) != 1)
    return Status::Internal("PostgreSQL: COPY data: " + PgError(c));
  Status status;
  for (PgResult r(PQgetResult(c)); r != nullptr; r.reset(PQgetResult(c))) {
    if (status.ok()) status = CheckResult(c, r, PGRES_COMMAND_OK, "COPY");
  }
  return status;
}

// Decodes one field of COPY's text format ("\\N" is NULL).
std::optional<std::string> CopyFieldValue(std::string_view f) {
  if (f == "\\N") return std::nullopt;
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out.push_back(f[i]);
      continue;
    }
    const char e = f[++i];
    out.push_back(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e);
  }
  return out;
}

// One transaction per Bundle with one prepared INSERT per resource (statement "insert").
Status PgInsert(PGconn* c, const std::string& rows) {
  RETURN_IF_ERROR(PgRun(c, "BEGIN"));
  std::string_view rest = rows;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    std::vector<std::optional<std::string>> fields;
    for (size_t start = 0;;) {
      const size_t tab = line.find('\t', start);
      fields.push_back(CopyFieldValue(line.substr(start, tab - start)));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 6) return Status::Internal("malformed row for INSERT");
    const char* values[6];
    for (size_t i = 0; i < 6; ++i) values[i] = fields[i] ? fields[i]->c_str() : nullptr;
    PgResult r(PQexecPrepared(c, "insert", 6, values, nullptr, nullptr, 0));
    RETURN_IF_ERROR(CheckResult(c, r, PGRES_COMMAND_OK, "INSERT"));
  }
  return PgRun(c, "COMMIT");
}

Result<ImportFigures> PgImport(const std::vector<PgConn>& conns, const Sample& sample,
                               const Options& o, LoadedIds* ids) {
  const bool insert = o.pg_load == "insert";
  for (const PgConn& conn : conns) {
    if (!insert) break;
    RETURN_IF_ERROR(PgPrepare(conn.get(), "insert",
                              std::string("INSERT INTO ") + kTable +
                                  " (type, id, version, last_updated, patient_id, content)"
                                  " VALUES ($1, $2, $3, $4, $5, $6)",
                              6));
  }
  const size_t items = sample.files.size() * static_cast<size_t>(o.copies);
  ids->refs.assign(items, {});
  ids->patients.assign(items, "");
  auto load = [&](size_t k, int t) -> Status {
    const SampleFile& f = sample.files[k % sample.files.size()];
    ASSIGN_OR_RETURN(std::string rows, BuildCopyRows(f, &ids->refs[k]));
    PGconn* conn = conns[static_cast<size_t>(t)].get();
    Status copied = insert ? PgInsert(conn, rows) : PgCopy(conn, rows);
    if (!copied.ok()) return copied.WithPrefix(f.path);
    ids->patients[k] = IdOf(ids->refs[k][f.patient_entry]);
    return Status::Ok();
  };
  const auto start = Clock::now();
  RETURN_IF_ERROR(RunParallel(items, o.threads, load));
  ImportFigures fig;
  fig.seconds = Seconds(start);
  fig.resources = sample.resources * static_cast<size_t>(o.copies);
  fig.bytes = sample.bytes * static_cast<uint64_t>(o.copies);
  return fig;
}

Status PgPrepareQueries(PGconn* c) {
  const std::string t = kTable;
  RETURN_IF_ERROR(
      PgPrepare(c, "read", "SELECT content::text FROM " + t + " WHERE type = $1 AND id = $2", 2));
  RETURN_IF_ERROR(PgPrepare(
      c, "search",
      "SELECT content::text FROM " + t + " WHERE type = 'Observation' AND patient_id = $1 " +
          "AND content @> $2::jsonb AND " + DateExpr() + " >= $3::timestamptz ORDER BY " +
          DateExpr() + " DESC LIMIT " + std::to_string(kSearchPage),
      3));
  return PgPrepare(c, "everything", "SELECT content::text FROM " + t + " WHERE patient_id = $1", 1);
}

Status PgReads(PGconn* c, const LoadedIds& ids, const std::vector<std::pair<size_t, size_t>>& picks,
               Latency* out) {
  auto read = [&](size_t i) -> Status {
    auto [type, id] = SplitRef(ids.refs[picks[i].first][picks[i].second]);
    ASSIGN_OR_RETURN(PgResult r, PgExecPrepared(c, "read", {std::string(type), std::string(id)}));
    if (PQntuples(r.get()) != 1) return Status::Internal("PostgreSQL: read found no row");
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(std::min<size_t>(200, picks.size()), read).status());  // warm-up
  ASSIGN_OR_RETURN(*out, Measure(picks.size(), read));
  return Status::Ok();
}

Status PgSearches(PGconn* c, const LoadedIds& ids, const std::vector<size_t>& patients,
                  PgFigures* fig) {
  const std::string code = std::string(R"({"code":{"coding":[{"system":")") + kSearchSystem +
                           R"(","code":")" + kSearchCode + R"("}]}})";
  const std::string since = std::string(kSearchSince) + "T00:00:00Z";
  std::vector<size_t> rows(patients.size());
  auto search = [&](size_t i) -> Status {
    ASSIGN_OR_RETURN(PgResult r,
                     PgExecPrepared(c, "search", {ids.patients[patients[i]], code, since}));
    rows[i] = static_cast<size_t>(PQntuples(r.get()));
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(std::min<size_t>(20, patients.size()), search).status());  // warm-up
  ASSIGN_OR_RETURN(fig->search, Measure(patients.size(), search));
  for (size_t n : rows) fig->search_matches += n;
  return Status::Ok();
}

Status PgEverything(PGconn* c, const std::string& patient, size_t runs, PgFigures* fig) {
  auto everything = [&](size_t) -> Status {
    ASSIGN_OR_RETURN(PgResult r, PgExecPrepared(c, "everything", {patient}));
    fig->everything_rows = static_cast<size_t>(PQntuples(r.get()));
    if (fig->everything_rows == 0) return Status::Internal("PostgreSQL: empty compartment");
    return Status::Ok();
  };
  RETURN_IF_ERROR(Measure(3, everything).status());  // warm-up
  ASSIGN_OR_RETURN(fig->everything, Measure(runs, everything));
  return Status::Ok();
}

Status PgDescribeServer(PGconn* c, PgFigures* fig) {
  ASSIGN_OR_RETURN(fig->server_version, PgScalar(c, "SHOW server_version"));
  ASSIGN_OR_RETURN(fig->settings,
                   PgScalar(c,
                            "SELECT string_agg(name || '=' || current_setting(name), ', ' "
                            "ORDER BY name) FROM pg_settings "
                            "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
                            "'shared_buffers', 'wal_sync_method', 'max_wal_size')"));
  if (fig->settings.find("fsync=on") == std::string::npos ||
      fig->settings.find("synchronous_commit=on") == std::string::npos)
    return Status::FailedPrecondition("PostgreSQL is not durable (" + fig->settings +
                                      "): the comparison needs fsync and synchronous_commit on");
  return Status::Ok();
}

// Fails early, before the medhub phase, when PostgreSQL cannot be reached.
Status CheckPostgres(const Options& o) { return PgConnect(o.pg).status(); }

Result<PgFigures> RunPostgres(const Sample& sample, const Options& o, const Workload& work) {
  PgFigures fig;
  std::vector<PgConn> conns;
  for (int t = 0; t < o.threads; ++t) {
    ASSIGN_OR_RETURN(PgConn c, PgConnect(o.pg));
    conns.push_back(std::move(c));
  }
  PGconn* c = conns.front().get();
  RETURN_IF_ERROR(PgDescribeServer(c, &fig));
  RETURN_IF_ERROR(PgCreateSchema(c));
  if (o.WarmupCopies() > 0) {  // the warm-up import, then an empty table (file comment)
    LoadedIds scratch;
    RETURN_IF_ERROR(PgImport(conns, sample, WarmupOptions(o), &scratch).status());
    RETURN_IF_ERROR(PgRun(c, std::string("TRUNCATE ") + kTable));
  }
  LoadedIds ids;
  ASSIGN_OR_RETURN(fig.import, PgImport(conns, sample, o, &ids));
  std::cout << "  PostgreSQL import: " << fig.import.resources << " resources in "
            << fig.import.seconds << " s" << std::endl;
  const auto analyze = Clock::now();
  RETURN_IF_ERROR(PgRun(c, std::string("ANALYZE ") + kTable));
  fig.analyze_seconds = Seconds(analyze);
  ASSIGN_OR_RETURN(std::string size,
                   PgScalar(c, std::string("SELECT pg_total_relation_size('") + kTable + "')"));
  fig.disk_bytes = std::strtoull(size.c_str(), nullptr, 10);
  RETURN_IF_ERROR(PgPrepareQueries(c));
  RETURN_IF_ERROR(PgReads(c, ids, work.reads, &fig.read));
  RETURN_IF_ERROR(PgSearches(c, ids, work.search_items, &fig));
  RETURN_IF_ERROR(PgEverything(c, ids.patients[work.largest_item], o.everything_runs, &fig));
  return fig;
}

#else  // !MEDHUB_BENCH_HAVE_PG

Status CheckPostgres(const Options&) {
  return Status::Unsupported("store_bench was built without libpq: run it with --no-pg");
}

Result<PgFigures> RunPostgres(const Sample&, const Options&, const Workload&) {
  return Status::Unsupported("store_bench was built without libpq");
}

#endif  // MEDHUB_BENCH_HAVE_PG

// ---------------------------------------------------------------------------------------
// Report

struct Report {
  std::string cpu;
  std::string kernel;
  unsigned nproc = 0;
  Options options;
  const Sample* sample = nullptr;
  MedhubFigures medhub;
  std::optional<PgFigures> pg;
};

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Mib(uint64_t bytes) { return Fixed(static_cast<double>(bytes) / (1 << 20), 1); }

void PrintRow(const std::string& name, const std::string& medhub, const std::string& pg,
              const std::string& ratio) {
  std::printf("%-34s %16s %16s %14s\n", name.c_str(), medhub.c_str(), pg.c_str(), ratio.c_str());
}

// ratio > 1 means medhub is better: throughput medhub/pg, latency pg/medhub.
std::string Ratio(double medhub, double pg, bool higher_is_better) {
  if (medhub <= 0 || pg <= 0) return "-";
  return Fixed(higher_is_better ? medhub / pg : pg / medhub, 2) + "x";
}

void PrintLatency(const std::string& name, const Latency& m, const Latency* p) {
  PrintRow(name + " p50 (ms)", Fixed(m.p50_ms, 3), p ? Fixed(p->p50_ms, 3) : "-",
           p ? Ratio(m.p50_ms, p->p50_ms, false) : "-");
  PrintRow(name + " p99 (ms)", Fixed(m.p99_ms, 3), p ? Fixed(p->p99_ms, 3) : "-",
           p ? Ratio(m.p99_ms, p->p99_ms, false) : "-");
}

void PrintReport(const Report& r) {
  const MedhubFigures& m = r.medhub;
  const PgFigures* p = r.pg ? &*r.pg : nullptr;
  std::printf("\n%-34s %16s %16s %14s\n", "", "medhub", "PostgreSQL", "medhub adv.");
  PrintRow("import resources/s", Fixed(m.import.ResourcesPerSecond(), 0),
           p ? Fixed(p->import.ResourcesPerSecond(), 0) : "-",
           p ? Ratio(m.import.ResourcesPerSecond(), p->import.ResourcesPerSecond(), true) : "-");
  PrintRow("import MB/s", Fixed(m.import.MegabytesPerSecond(), 2),
           p ? Fixed(p->import.MegabytesPerSecond(), 2) : "-",
           p ? Ratio(m.import.MegabytesPerSecond(), p->import.MegabytesPerSecond(), true) : "-");
  PrintRow("import seconds", Fixed(m.import.seconds, 2), p ? Fixed(p->import.seconds, 2) : "-", "");
  PrintLatency("read in-process", m.read, p ? &p->read : nullptr);
  PrintLatency("read HTTP loopback", m.http_read, nullptr);
  PrintLatency("search", m.search, p ? &p->search : nullptr);
  PrintLatency("$everything largest", m.everything, p ? &p->everything : nullptr);
  PrintRow("search results (sum)", std::to_string(m.search_matches),
           p ? std::to_string(p->search_matches) : "-", "");
  PrintRow("$everything resources", std::to_string(m.everything_entries),
           p ? std::to_string(p->everything_rows) : "-", "");
  PrintRow("on-disk MiB after import", Mib(m.disk_bytes), p ? Mib(p->disk_bytes) : "-", "");
  PrintRow("peak RSS MiB (import)", Mib(m.peak_rss), "-", "");
  std::printf(
      "\nmedhub RSS before import: %s MiB; medhub adv.: throughput medhub/PG, "
      "latency PG/medhub.\n",
      Mib(m.rss_before_import).c_str());
  std::printf(
      "medhub on-disk size includes the WAL; PostgreSQL's is pg_total_relation_size "
      "(table, TOAST, indexes; no WAL).\n");
  if (p) std::printf("PostgreSQL ANALYZE after the load (not timed): %.2f s\n", p->analyze_seconds);
}

json::Value LatencyJson(const Latency& l) {
  json::Value v = json::Value::Object();
  v.set("n", json::Value::Int(static_cast<int64_t>(l.n)));
  v.set("p50_ms", json::Value::Number(Fixed(l.p50_ms, 4)));
  v.set("p99_ms", json::Value::Number(Fixed(l.p99_ms, 4)));
  v.set("mean_ms", json::Value::Number(Fixed(l.mean_ms, 4)));
  return v;
}

json::Value ImportJson(const ImportFigures& f) {
  json::Value v = json::Value::Object();
  v.set("resources", json::Value::Int(static_cast<int64_t>(f.resources)));
  v.set("bytes", json::Value::Int(static_cast<int64_t>(f.bytes)));
  v.set("seconds", json::Value::Number(Fixed(f.seconds, 4)));
  v.set("resources_per_s", json::Value::Number(Fixed(f.ResourcesPerSecond(), 1)));
  v.set("mb_per_s", json::Value::Number(Fixed(f.MegabytesPerSecond(), 3)));
  return v;
}

json::Value MedhubJson(const MedhubFigures& m) {
  json::Value v = json::Value::Object();
  v.set("import", ImportJson(m.import));
  v.set("rss_before_import_bytes", json::Value::Int(static_cast<int64_t>(m.rss_before_import)));
  v.set("peak_rss_bytes", json::Value::Int(static_cast<int64_t>(m.peak_rss)));
  v.set("disk_bytes", json::Value::Int(static_cast<int64_t>(m.disk_bytes)));
  v.set("read", LatencyJson(m.read));
  v.set("http_read", LatencyJson(m.http_read));
  v.set("search", LatencyJson(m.search));
  v.set("search_results", json::Value::Int(static_cast<int64_t>(m.search_matches)));
  v.set("everything", LatencyJson(m.everything));
  v.set("everything_resources", json::Value::Int(static_cast<int64_t>(m.everything_entries)));
  return v;
}

json::Value PgJson(const PgFigures& p) {
  json::Value v = json::Value::Object();
  v.set("server_version", json::Value::String(p.server_version));
  v.set("settings", json::Value::String(p.settings));
  v.set("import", ImportJson(p.import));
  v.set("analyze_seconds", json::Value::Number(Fixed(p.analyze_seconds, 4)));
  v.set("disk_bytes", json::Value::Int(static_cast<int64_t>(p.disk_bytes)));
  v.set("read", LatencyJson(p.read));
  v.set("search", LatencyJson(p.search));
  v.set("search_results", json::Value::Int(static_cast<int64_t>(p.search_matches)));
  v.set("everything", LatencyJson(p.everything));
  v.set("everything_resources", json::Value::Int(static_cast<int64_t>(p.everything_rows)));
  return v;
}

json::Value ReportJson(const Report& r) {
  json::Value machine = json::Value::Object();
  machine.set("nproc", json::Value::Int(r.nproc));
  machine.set("cpu", json::Value::String(r.cpu));
  machine.set("kernel", json::Value::String(r.kernel));
  json::Value config = json::Value::Object();
  config.set("copies", json::Value::Int(r.options.copies));
  config.set("pg_load", json::Value::String(r.options.pg_load));
  config.set("threads", json::Value::Int(r.options.threads));
  config.set("warmup_copies", json::Value::Int(static_cast<int64_t>(r.options.WarmupCopies())));
  config.set("sample", json::Value::String(r.options.sample));
  config.set("sample_files", json::Value::Int(static_cast<int64_t>(r.sample->files.size())));
  config.set("sample_resources", json::Value::Int(static_cast<int64_t>(r.sample->resources)));
  config.set("sample_bytes", json::Value::Int(static_cast<int64_t>(r.sample->bytes)));
  json::Value v = json::Value::Object();
  v.set("machine", std::move(machine));
  v.set("config", std::move(config));
  v.set("medhub", MedhubJson(r.medhub));
  v.set("postgresql", r.pg ? PgJson(*r.pg) : json::Value());
  if (r.pg) {
    json::Value ratios = json::Value::Object();
    ratios.set("import_medhub_over_pg",
               json::Value::Number(Fixed(
                   r.medhub.import.ResourcesPerSecond() / r.pg->import.ResourcesPerSecond(), 3)));
    v.set("ratios", std::move(ratios));
  }
  return v;
}

Status WriteJson(const Report& r, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json::Serialize(ReportJson(r)) << "\n";
  out.close();
  if (!out) return Status::Unavailable("cannot write " + path);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------

// The encrypted run against the plaintext one; "cost" is encrypted/plain for latencies and
// plain/encrypted for throughput (1.00 = free, 1.10 = 10% slower).
void PrintEncryptionCost(const MedhubFigures& enc, const MedhubFigures& plain) {
  std::printf("\n%-34s %16s %16s %14s\n", "encryption at rest", "encrypted", "plaintext", "cost");
  PrintRow("import resources/s", Fixed(enc.import.ResourcesPerSecond(), 0),
           Fixed(plain.import.ResourcesPerSecond(), 0),
           Ratio(plain.import.ResourcesPerSecond(), enc.import.ResourcesPerSecond(), true));
  // CPU time is less sensitive than wall time to other load on the machine.
  const auto cpu_us = [](const MedhubFigures& f) {
    return f.import.resources ? f.import_cpu_seconds * 1e6 / f.import.resources : 0.0;
  };
  PrintRow("import CPU us/resource", Fixed(cpu_us(enc), 1), Fixed(cpu_us(plain), 1),
           Ratio(cpu_us(enc), cpu_us(plain), true));
  const std::pair<const char*, const Latency MedhubFigures::*> rows[] = {
      {"read in-process", &MedhubFigures::read},
      {"read HTTP loopback", &MedhubFigures::http_read},
      {"search (HTTP)", &MedhubFigures::search},
      {"$everything (HTTP)", &MedhubFigures::everything}};
  for (const auto& [name, field] : rows) {
    const Latency& e = enc.*field;
    const Latency& p = plain.*field;
    PrintRow(std::string(name) + " p50 ms", Fixed(e.p50_ms, 3), Fixed(p.p50_ms, 3),
             Ratio(e.p50_ms, p.p50_ms, true));
    PrintRow(std::string(name) + " p99 ms", Fixed(e.p99_ms, 3), Fixed(p.p99_ms, 3),
             Ratio(e.p99_ms, p.p99_ms, true));
  }
  PrintRow("on-disk MiB after import", Mib(enc.disk_bytes), Mib(plain.disk_bytes), "");
  std::fflush(stdout);
}

Status Run(const Options& o) {
  Report report;
  report.options = o;
  report.cpu = CpuModel();
  report.kernel = Kernel();
  report.nproc = std::thread::hardware_concurrency();
  std::printf("machine: %u CPUs, %s, %s\n", report.nproc, report.cpu.c_str(),
              report.kernel.c_str());
  ASSIGN_OR_RETURN(Sample sample, LoadSample(o.sample));
  report.sample = &sample;
  std::printf("sample: %zu Bundles, %zu resources, %.1f MB, x %d copies, %d threads\n",
              sample.files.size(), sample.resources, sample.bytes / 1e6, o.copies, o.threads);
  if (!o.pg.empty()) RETURN_IF_ERROR(CheckPostgres(o));
  std::printf("PostgreSQL: %s\n", o.pg.empty() ? "skipped" : "reachable");
  std::fflush(stdout);

  const std::filesystem::path dir =
      std::filesystem::path(o.work) / ("medhub-store-bench-" + NewId());
  LoadedIds ids;
  Workload work;
  std::error_code ec;
  RETURN_IF_ERROR(MedhubWarmup(sample, o, dir.string() + "-warmup", !o.no_encryption));
  if (o.WarmupCopies() > 0)
    std::printf("warm-up: %zu copies imported into each store and thrown away first\n",
                o.WarmupCopies());
  std::optional<MedhubFigures> plain;
  if (o.compare_encryption && !o.no_encryption) {
    // The plaintext run goes first: warm-up effects then count against it, not for it.
    LoadedIds plain_ids;
    Workload plain_work;
    auto run = RunMedhub(sample, o, dir.string() + "-plain", &plain_ids, &plain_work, false);
    std::filesystem::remove_all(dir.string() + "-plain", ec);
    if (!run.ok()) return run.status().WithPrefix("medhub without encryption");
    plain = std::move(run).value();
  }
  auto medhub = RunMedhub(sample, o, dir, &ids, &work, !o.no_encryption);
  std::filesystem::remove_all(dir, ec);
  if (!medhub.ok()) return medhub.status().WithPrefix("medhub");
  report.medhub = std::move(medhub).value();
  if (plain) PrintEncryptionCost(report.medhub, *plain);

  if (!o.pg.empty()) {
    ASSIGN_OR_RETURN(PgFigures pg, RunPostgres(sample, o, work));
    std::printf("PostgreSQL %s (%s), loaded with %s\n", pg.server_version.c_str(),
                pg.settings.c_str(), o.pg_load == "insert" ? "INSERT" : "COPY");
    report.pg = std::move(pg);
  }
  PrintReport(report);
  if (!o.json_path.empty()) RETURN_IF_ERROR(WriteJson(report, o.json_path));
  return Status::Ok();
}

}  // namespace
}  // namespace medhub::bench

int main(int argc, char** argv) {
  auto options = medhub::bench::ParseOptions(argc, argv);
  if (!options.ok()) {
    if (options.status().message() != "help")
      std::fprintf(stderr, "store_bench: %s\n", options.status().message().c_str());
    std::fputs(medhub::bench::kUsage, stderr);
    return 2;
  }
  medhub::Status s = medhub::bench::Run(*options);
  if (!s.ok()) {
    std::fprintf(stderr, "store_bench: error: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
