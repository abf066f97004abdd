// The three kinds of stage the built-in jobs are made of (docs/analytics.md):
//
//  1. LatestVersionStage: maps lake lines of the job's resource types to records keyed by
//     "Type/id"; its combiner and reduce keep the latest version (lake rule: highest
//     meta.versionId, tombstones remove), and the reduce re-keys the survivor by its group
//     (the patient or device id).
//  2. GroupStage: identity map over "group\trecord" lines; the reduce hands one group's
//     records to a job function (e.g. per-patient facts → aggregation keys or rows).
//  3. SumStage: identity map over "key\tn,n,..." lines; combine and reduce add the
//     comma-separated integer vectors; the reduce hands the total to a job function.
//
// Thread-safety: immutable; all methods const.
#pragma once

#include <array>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "analytics/job.h"
#include "core/json_lazy.h"

namespace medhub::analytics {

// What a job takes from one resource version: the group it belongs to and its fields, or
// nullopt when the version does not matter to the job. Views into the resource's line (or
// into the json::LazyDoc it was read with), valid while the map handles that line.
struct Extracted {
  static constexpr size_t kMaxFields = 6;
  Extracted(std::string_view g, std::initializer_list<std::string_view> f) : group(g) {
    for (std::string_view x : f) {
      if (count < kMaxFields) fields[count++] = x;
    }
  }
  std::string_view group;
  std::array<std::string_view, kMaxFields> fields{};
  size_t count = 0;
};
// Reads a resource in place (a validated lake line, json::LazyNode): only the members the
// job needs are looked at.
using Extractor = std::function<std::optional<Extracted>(std::string_view type,
                                                         const json::LazyNode& resource)>;

class LatestVersionStage : public Stage {
 public:
  LatestVersionStage(std::vector<std::string> types, Extractor extract)
      : types_(std::move(types)), extract_(std::move(extract)) {}
  Status Map(std::string_view record, const Emit& emit, Counters* counters) const override;
  bool has_combiner() const override { return true; }
  void Combine(std::string_view key, const std::vector<std::string_view>& values,
               const Emit& emit) const override;
  void Reduce(std::string_view key, const std::vector<std::string_view>& values,
              const Emit& emit, Counters* counters) const override;

 private:
  std::vector<std::string> types_;
  Extractor extract_;
};

// Splits "key\tvalue" (stage N > 1 input); InvalidArgument without a tab.
Result<std::pair<std::string_view, std::string_view>> SplitKeyValue(std::string_view line);

using GroupFn = std::function<void(std::string_view group,
                                   const std::vector<std::vector<std::string_view>>& records,
                                   const Emit& emit)>;

class GroupStage : public Stage {
 public:
  explicit GroupStage(GroupFn fn) : fn_(std::move(fn)) {}
  Status Map(std::string_view record, const Emit& emit, Counters* counters) const override;
  void Reduce(std::string_view key, const std::vector<std::string_view>& values,
              const Emit& emit, Counters* counters) const override;

 private:
  GroupFn fn_;
};

using TotalFn = std::function<void(std::string_view key, const std::vector<int64_t>& totals,
                                   const Emit& emit)>;

class SumStage : public Stage {
 public:
  explicit SumStage(TotalFn fn) : fn_(std::move(fn)) {}
  Status Map(std::string_view record, const Emit& emit, Counters* counters) const override;
  bool has_combiner() const override { return true; }
  void Combine(std::string_view key, const std::vector<std::string_view>& values,
               const Emit& emit) const override;
  void Reduce(std::string_view key, const std::vector<std::string_view>& values,
              const Emit& emit, Counters* counters) const override;

 private:
  TotalFn fn_;
};

// "n,n,n" for a vector of counts, and back (nullopt when malformed).
std::string FormatCounts(const std::vector<int64_t>& counts);
std::optional<std::vector<int64_t>> ParseCounts(std::string_view text);

}  // namespace medhub::analytics
