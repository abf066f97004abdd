// micro_bench: microbenchmarks on the shared Synthea sample, each against a peer measured
// in the same run where there is one (docs/benchmarks.md).
//
//   JsonParse/medhub    vs JsonParse/boost       whole Bundles, bytes/s (parse + destroy)
//   JsonParse/medhub_no_duplicates                the same, rejecting repeated names as FHIR does
//   JsonDestroy/medhub                            freeing parsed Bundles no longer in the cache
//   JsonSerialize/medhub vs JsonSerialize/boost  whole Bundles, bytes/s
//   ParseResource                                 one resource: parse + FHIR validation
//   ExtractIndexValues                            one parsed resource: search index values
//   ValidateResource                              one parsed resource: FHIR validation
//   ImportJsonPath                                the import's JSON work per resource: Bundle
//                                                 parse + validation + canonical serialization
//
// Boost.JSON is used header-only: this is the one translation unit that includes its
// sources.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/json/src.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "fhir/resource.h"
#include "fhir/search_params.h"

namespace medhub::bench {
namespace {

struct Corpus {
  std::vector<std::string> bundles;    // file texts
  std::vector<std::string> resources;  // each entry's resource, serialized alone
  std::vector<json::Value> parsed;     // the same, parsed
  size_t bundle_bytes = 0;
  size_t resource_bytes = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "micro_bench: %s\n", message.c_str());
  std::exit(1);
}

void AddBundle(Corpus* c, const std::string& path) {
  std::string text = ReadFile(path);
  auto doc = json::Parse(text);
  if (!doc.ok()) Fail(path + ": " + doc.status().ToString());
  const json::Value* entries = doc->find("entry");
  if (entries == nullptr) Fail(path + ": not a Bundle with entries");
  for (const json::Value& e : entries->items()) {
    const json::Value* r = e.find("resource");
    if (r == nullptr) continue;
    c->resources.push_back(json::Serialize(*r));
    c->resource_bytes += c->resources.back().size();
    c->parsed.push_back(*r);
  }
  c->bundle_bytes += text.size();
  c->bundles.push_back(std::move(text));
}

const Corpus& GetCorpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus();
    const std::filesystem::path dir = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".json") paths.push_back(e.path().string());
    if (ec || paths.empty()) Fail("no Synthea Bundles in " + dir.string());
    std::sort(paths.begin(), paths.end());
    for (const std::string& p : paths) AddBundle(c, p);
    return c;
  }();
  return *corpus;
}

void BM_JsonParse_Medhub(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  for (auto _ : state) {
    for (const std::string& text : c.bundles) {
      auto v = json::Parse(text);
      if (!v.ok()) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bundle_bytes));
}
BENCHMARK(BM_JsonParse_Medhub)->Name("JsonParse/medhub")->Unit(benchmark::kMillisecond);

// As fhir::ParseResource parses: repeated member names are rejected.
void BM_JsonParse_MedhubNoDuplicates(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  json::ParseOptions options;
  options.reject_duplicate_keys = true;
  for (auto _ : state) {
    for (const std::string& text : c.bundles) {
      auto v = json::Parse(text, options);
      if (!v.ok()) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bundle_bytes));
}
BENCHMARK(BM_JsonParse_MedhubNoDuplicates)
    ->Name("JsonParse/medhub_no_duplicates")
    ->Unit(benchmark::kMillisecond);

// Destroying parsed Bundles that are no longer in the cache, as the import frees a Bundle
// after committing it.
void BM_JsonDestroy_Medhub(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<json::Value> docs;
    for (const std::string& text : c.bundles) {
      auto doc = json::Parse(text);
      docs.push_back(std::move(*doc));
    }
    state.ResumeTiming();
    docs.clear();
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bundle_bytes));
}
BENCHMARK(BM_JsonDestroy_Medhub)->Name("JsonDestroy/medhub")->Unit(benchmark::kMillisecond);

void BM_JsonParse_Boost(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  for (auto _ : state) {
    for (const std::string& text : c.bundles) {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(text, ec);
      if (ec) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bundle_bytes));
}
BENCHMARK(BM_JsonParse_Boost)->Name("JsonParse/boost")->Unit(benchmark::kMillisecond);

void BM_JsonSerialize_Medhub(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  std::vector<json::Value> docs;
  for (const std::string& text : c.bundles) docs.push_back(*json::Parse(text));
  size_t bytes = 0;
  for (auto _ : state) {
    for (const json::Value& d : docs) {
      std::string out = json::Serialize(d);
      bytes += out.size();
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonSerialize_Medhub)->Name("JsonSerialize/medhub")->Unit(benchmark::kMillisecond);

void BM_JsonSerialize_Boost(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  std::vector<boost::json::value> docs;
  for (const std::string& text : c.bundles) docs.push_back(boost::json::parse(text));
  size_t bytes = 0;
  for (auto _ : state) {
    for (const boost::json::value& d : docs) {
      std::string out = boost::json::serialize(d);
      bytes += out.size();
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_JsonSerialize_Boost)->Name("JsonSerialize/boost")->Unit(benchmark::kMillisecond);

// One resource per iteration, cycling through every resource of the sample.
void BM_ParseResource(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& text = c.resources[i];
    auto r = fhir::ParseResource(text);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    benchmark::DoNotOptimize(r);
    bytes += text.size();
    if (++i == c.resources.size()) i = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseResource)->Name("ParseResource/per_resource");

// The JSON side of `medhub import` per resource: fhir::ParseResource on each whole Bundle
// (parse + validation), then the canonical serialization of every entry's resource, as the
// store does before sealing it. Reported per resource.
void BM_ImportJsonPath(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  size_t resources = 0;
  for (auto _ : state) {
    for (const std::string& text : c.bundles) {
      auto doc = fhir::ParseResource(text);
      if (!doc.ok()) state.SkipWithError(doc.status().ToString().c_str());
      std::string out;
      for (const json::Value& e : doc->find("entry")->items()) {
        const json::Value* r = e.find("resource");
        if (r == nullptr) continue;
        out.clear();
        json::SerializeTo(*r, &out);
        benchmark::DoNotOptimize(out);
        ++resources;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(resources));
  state.counters["time_per_resource"] = benchmark::Counter(
      static_cast<double>(resources), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ImportJsonPath)->Name("ImportJsonPath/per_resource")->Unit(benchmark::kMillisecond);

void BM_ExtractIndexValues(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  size_t i = 0, values = 0;
  for (auto _ : state) {
    std::vector<fhir::IndexValue> v = fhir::ExtractIndexValues(c.parsed[i]);
    values += v.size();
    benchmark::DoNotOptimize(v);
    if (++i == c.parsed.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["values_per_resource"] =
      benchmark::Counter(static_cast<double>(values) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_ExtractIndexValues)->Name("ExtractIndexValues/per_resource");

// FHIR validation alone (what ParseResource adds to json::Parse), per parsed resource.
void BM_ValidateResource(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  size_t i = 0;
  for (auto _ : state) {
    Status s = fhir::ValidateResource(c.parsed[i]);
    if (!s.ok()) Fail("ValidateResource: " + s.ToString());
    if (++i == c.parsed.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateResource)->Name("ValidateResource/per_resource");

}  // namespace
}  // namespace medhub::bench

BENCHMARK_MAIN();
