#include "analytics/stages.h"

#include <algorithm>
#include <charconv>

#include "analytics/records.h"

namespace medhub::analytics {

void Stage::Combine(std::string_view key, const std::vector<std::string_view>& values,
                    const Emit& emit) const {
  for (std::string_view v : values) emit(key, v);
}

namespace {

// Per-thread buffers of the stage-1 map, so that a line costs no allocation.
struct MapScratch {
  json::LazyDoc doc;
  std::string key;
  std::string value;
};

void AppendVersion(int64_t version, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, version);
  out->append(buf, end);
}

}  // namespace

Status LatestVersionStage::Map(std::string_view record, const Emit& emit,
                               Counters* counters) const {
  const std::string_view type = SniffResourceType(record);
  if (std::find(types_.begin(), types_.end(), type) == types_.end()) {
    // Not read by this job: only check that the line is not cut short.
    if (!LooksLikeWholeObject(record)) {
      return Status::InvalidArgument("not a whole JSON object (truncated line?)");
    }
    return Status::Ok();
  }
  thread_local MapScratch scratch;
  RETURN_IF_ERROR(scratch.doc.Load(record));
  const json::LazyNode resource = scratch.doc.root();
  if (!resource.is_object()) return Status::InvalidArgument("not a JSON object");
  const std::string_view id = resource.get_string("id");
  if (id.empty()) return Status::InvalidArgument("resource without an id");
  std::string& key = scratch.key;
  key.assign(type).append(1, '/').append(id);
  std::optional<Extracted> extracted;
  if (!IsDeletionMarker(resource)) extracted = extract_(type, resource);
  // "Type|id|version|deleted|group|field..." (records.h).
  std::string& value = scratch.value;
  value.clear();
  AppendCleaned(type, &value);
  value += '|';
  AppendCleaned(id, &value);
  value += '|';
  AppendVersion(VersionOf(resource), &value);
  if (!extracted) {
    // A tombstone or a version the job ignores: it still supersedes older versions.
    value += "|1|";
    emit(key, value);
    counters->Add("ignored_versions", 1);
    return Status::Ok();
  }
  value += "|0|";
  AppendCleaned(extracted->group, &value);
  for (size_t i = 0; i < extracted->count; ++i) {
    value += '|';
    AppendCleaned(extracted->fields[i], &value);
  }
  emit(key, value);
  counters->Add("records", 1);
  return Status::Ok();
}

void LatestVersionStage::Combine(std::string_view key,
                                 const std::vector<std::string_view>& values,
                                 const Emit& emit) const {
  for (std::string_view v : LatestVersions(values, /*drop_deleted=*/false)) emit(key, v);
}

void LatestVersionStage::Reduce(std::string_view, const std::vector<std::string_view>& values,
                                const Emit& emit, Counters* counters) const {
  for (std::string_view v : LatestVersions(values, /*drop_deleted=*/true)) {
    const auto fields = SplitRecord(v);
    if (fields.size() < 5 || fields[4].empty()) continue;
    emit(fields[4], v);
    counters->Add("current_resources", 1);
  }
}

Result<std::pair<std::string_view, std::string_view>> SplitKeyValue(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos) return Status::InvalidArgument("no tab in key/value line");
  return std::make_pair(line.substr(0, tab), line.substr(tab + 1));
}

Status GroupStage::Map(std::string_view record, const Emit& emit, Counters*) const {
  ASSIGN_OR_RETURN(auto kv, SplitKeyValue(record));
  emit(kv.first, kv.second);
  return Status::Ok();
}

void GroupStage::Reduce(std::string_view key, const std::vector<std::string_view>& values,
                        const Emit& emit, Counters*) const {
  // Sorted so that what the job function sees does not depend on value order.
  std::vector<std::string_view> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<std::string_view>> records;
  records.reserve(sorted.size());
  for (std::string_view v : sorted) records.push_back(SplitRecord(v));
  fn_(key, records, emit);
}

std::string FormatCounts(const std::vector<int64_t>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(counts[i]);
  }
  return out;
}

std::optional<std::vector<int64_t>> ParseCounts(std::string_view text) {
  std::vector<int64_t> out;
  for (std::string_view f : SplitRecord(text, ',')) {
    const auto n = ParseInt(f);
    if (!n) return std::nullopt;
    out.push_back(*n);
  }
  return out;
}

namespace {

// Adds up count vectors (shorter ones are zero-extended); malformed ones are skipped.
std::vector<int64_t> AddUp(const std::vector<std::string_view>& values, Counters* counters) {
  std::vector<int64_t> total;
  for (std::string_view v : values) {
    const auto counts = ParseCounts(v);
    if (!counts) {
      if (counters != nullptr) counters->Add("malformed_counts", 1);
      continue;
    }
    if (counts->size() > total.size()) total.resize(counts->size(), 0);
    for (size_t i = 0; i < counts->size(); ++i) total[i] += (*counts)[i];
  }
  return total;
}

}  // namespace

Status SumStage::Map(std::string_view record, const Emit& emit, Counters*) const {
  ASSIGN_OR_RETURN(auto kv, SplitKeyValue(record));
  if (!ParseCounts(kv.second)) return Status::InvalidArgument("value is not a list of counts");
  emit(kv.first, kv.second);
  return Status::Ok();
}

void SumStage::Combine(std::string_view key, const std::vector<std::string_view>& values,
                       const Emit& emit) const {
  emit(key, FormatCounts(AddUp(values, nullptr)));
}

void SumStage::Reduce(std::string_view key, const std::vector<std::string_view>& values,
                      const Emit& emit, Counters* counters) const {
  fn_(key, AddUp(values, counters), emit);
}

}  // namespace medhub::analytics
