#include "analytics/local_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "analytics/generator.h"
#include "analytics/job.h"
#include "analytics/lake_input.h"
#include "analytics/test_util.h"

namespace medhub::analytics {
namespace {

using testing::Lines;
using testing::TempDir;
using testing::WriteFile;

const std::string kSynthea = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";

// A generated lake of `n` patients shared by the tests of this file.
const std::string& GeneratedLake() {
  static TempDir* dir = [] {
    auto* d = new TempDir;
    GenOptions o;
    o.bundles_dir = kSynthea;
    o.out_dir = d->path();
    o.patients = 80;
    o.seed = 7;
    o.types = {"Patient", "Condition", "Observation", "MedicationRequest", "Device"};
    auto stats = GeneratePopulation(o);
    EXPECT_TRUE(stats.ok()) << stats.status().message();
    return d;
  }();
  static const std::string path = dir->path().string();
  return path;
}

TEST(Generator, AGeneratedLakeIsRecordedInTheYearTheSampleEndsNot1970) {
  // meta.lastUpdated is the end of the sample's latest date, so every type is in one
  // date= folder (the year of recording, docs/formats/lake.md), that year.
  std::set<std::string> years;
  for (const char* type : {"Patient", "Condition", "Observation", "Device"}) {
    for (const auto& e : std::filesystem::directory_iterator(GeneratedLake() + "/" + type)) {
      years.insert(e.path().filename().string());
    }
  }
  ASSERT_EQ(years.size(), 1u);
  const std::string year = *years.begin();
  EXPECT_NE(year, "date=1970");
  const std::string text =
      LocalLakeFiles(GeneratedLake(), {"Patient"}).value().front().read().value();
  const std::string line = text.substr(0, text.find('\n'));
  EXPECT_NE(line.find(R"("lastUpdated":")" + year.substr(5)), std::string::npos) << line;
}

RunResult RunJob(const std::string& name, const std::string& lake, const EngineOptions& o) {
  auto job = FindJob(name);
  EXPECT_TRUE(job.ok());
  auto files = LocalLakeFiles(lake, (*job)->input_types());
  EXPECT_TRUE(files.ok());
  auto result = RunLocal(**job, *files, o);
  EXPECT_TRUE(result.ok()) << result.status().message();
  return std::move(*result);
}

TEST(LocalEngine, SpillingUnderATinyMemoryLimitGivesTheSameResultAsMemory) {
  for (const Job* job : BuiltinJobs()) {
    const RunResult in_memory = RunJob(std::string(job->name()), GeneratedLake(), {});
    EXPECT_EQ(in_memory.stats.spilled_runs, 0u);
    EXPECT_FALSE(in_memory.lines.empty()) << job->name();
    TempDir spill;
    EngineOptions tiny;
    tiny.threads = 2;
    tiny.memory_limit_bytes = 16 << 10;
    tiny.spill_dir = spill / "spill";
    const RunResult spilled = RunJob(std::string(job->name()), GeneratedLake(), tiny);
    EXPECT_GT(spilled.stats.spilled_runs, 0u) << job->name();
    EXPECT_EQ(spilled.lines, in_memory.lines) << job->name();
    // Spill files are removed when the run ends.
    EXPECT_TRUE(!std::filesystem::exists(tiny.spill_dir) ||
                std::filesystem::is_empty(tiny.spill_dir / std::filesystem::path("")) ||
                std::distance(std::filesystem::recursive_directory_iterator(tiny.spill_dir),
                              std::filesystem::recursive_directory_iterator()) == 0);
  }
}

TEST(LocalEngine, TheNumberOfThreadsDoesNotChangeTheResult) {
  EngineOptions one;
  one.threads = 1;
  EngineOptions four;
  four.threads = 4;
  for (const Job* job : BuiltinJobs()) {
    EXPECT_EQ(RunJob(std::string(job->name()), GeneratedLake(), one).lines,
              RunJob(std::string(job->name()), GeneratedLake(), four).lines)
        << job->name();
  }
}

TEST(LocalEngine, CorruptAndTruncatedLinesAreCountedReportedWithFileAndLineAndSkipped) {
  TempDir dir;
  const std::string file = dir / "Patient/date=2020-01/bucket=00/part-0000000001-0000.ndjson";
  WriteFile(file,
            Lines({R"({"resourceType":"Patient","id":"a","gender":"female","birthDate":"1950-01-01"})",
                   R"({"resourceType":"Patient","id":"b",)",  // truncated
                   R"(not json at all)",
                   R"({"resourceType":"Patient","id":"c","gender":"male","birthDate":"1960-01-01"})"}) +
                R"({"resourceType":"Patient","id":"d","gen)");  // cut at the end of the file
  WriteFile(dir / "Condition/date=2020-01/bucket=00/part-0000000001-0000.ndjson",
            Lines({R"({"resourceType":"Condition","id":"x","code":{"coding":[{"code":"230690007"}]},"subject":{"reference":"Patient/a"}})"}));
  const RunResult r = RunJob("stroke-risk-factors", dir.path(), {});
  EXPECT_EQ(r.stats.bad_lines, 3u);
  ASSERT_EQ(r.stats.first_bad_lines.size(), 3u);
  std::vector<uint64_t> numbers;
  for (const BadLine& b : r.stats.first_bad_lines) {
    EXPECT_EQ(b.file, file);
    EXPECT_FALSE(b.error.empty());
    numbers.push_back(b.line);
  }
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<uint64_t>{2, 3, 5}));
  // The good lines still count: a (stroke) and c (no stroke).
  EXPECT_EQ(r.lines.front(), "no_stroke|atrial_fibrillation\t1\t0\t0.0000");
  EXPECT_EQ(r.lines.back(), "stroke|smoking\t1\t0\t0.0000");
}

TEST(LocalEngine, AMissingLakeIsAClearError) {
  auto files = LocalLakeFiles("/nonexistent/lake", {});
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("/nonexistent/lake"), std::string::npos);
}

TEST(Generator, TheSameSeedGivesTheSameBytesAndAnotherSeedDiffers) {
  auto tree = [](const std::string& root) {
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      files[std::filesystem::relative(e.path(), root).string()] = ss.str();
    }
    return files;
  };
  auto gen = [](const std::string& out, uint64_t seed) {
    GenOptions o;
    o.bundles_dir = kSynthea;
    o.out_dir = out;
    o.patients = 45;
    o.seed = seed;
    o.types = {"Patient", "Condition", "MedicationRequest", "Device"};
    auto s = GeneratePopulation(o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return *s;
  };
  TempDir a, b, c;
  const GenStats sa = gen(a.path(), 11);
  gen(b.path(), 11);
  gen(c.path(), 12);
  EXPECT_EQ(sa.patients, 45u);
  EXPECT_GT(sa.devices, 0u);
  const auto ta = tree(a.path());
  EXPECT_FALSE(ta.empty());
  EXPECT_EQ(ta, tree(b.path()));
  EXPECT_NE(ta, tree(c.path()));
}

}  // namespace
}  // namespace medhub::analytics
