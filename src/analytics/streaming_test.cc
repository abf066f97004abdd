// The Hadoop Streaming side reproduces the in-process engine: each input file is a map
// task, map output is sorted bytewise (as Hadoop's shuffle does), combined per task,
// merged, sorted again and reduced; stage N+1 maps stage N's output.
#include "analytics/streaming.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "analytics/generator.h"
#include "analytics/lake_input.h"
#include "analytics/local_engine.h"
#include "analytics/test_util.h"

namespace medhub::analytics {
namespace {

std::vector<std::string> ToLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::string RunRole(const Job& job, int stage, StreamingRole role, const std::string& input,
                std::string* err = nullptr) {
  std::istringstream in(input);
  std::ostringstream out, e;
  EXPECT_TRUE(RunStreaming(job, stage, role, in, out, e).ok());
  if (err) *err = e.str();
  return out.str();
}

std::string SortedText(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

TEST(Streaming, MapSortCombineReduceGivesTheInProcessResultForEveryJob) {
  testing::TempDir dir;
  GenOptions o;
  o.bundles_dir = std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea";
  o.out_dir = dir.path();
  o.patients = 50;
  o.seed = 3;
  o.types = {"Patient", "Condition", "Observation", "MedicationRequest", "Device"};
  ASSERT_TRUE(GeneratePopulation(o).ok());
  for (const Job* job : BuiltinJobs()) {
    auto files = LocalLakeFiles(dir.path(), job->input_types());
    ASSERT_TRUE(files.ok());
    std::vector<std::string> tasks;  // one input text per map task
    for (const InputFile& f : *files) tasks.push_back(*f.read());
    for (size_t s = 1; s <= job->stages().size(); ++s) {
      std::vector<std::string> shuffled;
      for (const std::string& task : tasks) {
        std::string mapped = SortedText(ToLines(RunRole(*job, static_cast<int>(s), StreamingRole::kMap, task)));
        if (job->stages()[s - 1]->has_combiner()) {
          mapped = RunRole(*job, static_cast<int>(s), StreamingRole::kCombine, mapped);
        }
        for (auto& l : ToLines(mapped)) shuffled.push_back(l);
      }
      const std::string reduced = RunRole(*job, static_cast<int>(s), StreamingRole::kReduce, SortedText(shuffled));
      tasks = {reduced};
    }
    auto local = RunLocal(*job, *files, {});
    ASSERT_TRUE(local.ok());
    EXPECT_EQ(SortedText(ToLines(tasks[0])), SortedText(local->lines)) << job->name();
  }
}

TEST(Streaming, BadLinesAreReportedOnStderrWithCountersAndSkipped) {
  auto job = FindJob("stroke-risk-factors");
  ASSERT_TRUE(job.ok());
  std::string err;
  const std::string out = RunRole(**job, 1, StreamingRole::kMap,
                              "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n"
                              "{\"resourceType\":\"Patient\",\"id\n",
                              &err);
  EXPECT_EQ(ToLines(out).size(), 1u);
  EXPECT_NE(err.find("medhub: stdin:2: "), std::string::npos) << err;
  EXPECT_NE(err.find("reporter:counter:medhub,bad_lines,1\n"), std::string::npos) << err;
  EXPECT_NE(err.find("reporter:counter:medhub,input_lines,2\n"), std::string::npos) << err;
  // The bytes read, newlines included (the Hadoop engine's --stats input bytes).
  EXPECT_NE(err.find("reporter:counter:medhub,input_bytes,66\n"), std::string::npos) << err;
}

TEST(Streaming, AStageTheJobDoesNotHaveIsAnError) {
  auto job = FindJob("af-anticoagulation-gap");
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_FALSE(RunStreaming(**job, 3, StreamingRole::kMap, in, out, err).ok());
  EXPECT_FALSE(RunStreaming(**job, 0, StreamingRole::kReduce, in, out, err).ok());
}

}  // namespace
}  // namespace medhub::analytics
