#include "lake/manifest.h"

#include <cstdio>
#include <utility>

#include "core/json.h"

namespace medhub::lake {
namespace {

constexpr std::string_view kManifestPrefix = "manifest-";
constexpr std::string_view kPendingPrefix = "_pending-";
constexpr std::string_view kSuffix = ".json";

Result<uint64_t> UintField(const json::Value& v, std::string_view key) {
  const json::Value* f = v.find(key);
  std::optional<int64_t> n = f != nullptr ? f->as_int() : std::nullopt;
  if (!n.has_value() || *n < 0) {
    return Status::DataLoss("lake manifest: '" + std::string(key) + "' is missing or not a count");
  }
  return static_cast<uint64_t>(*n);
}

json::Value UintValue(uint64_t v) { return json::Value::Int(static_cast<int64_t>(v)); }

// `bucketing` of a medhub-lake/3 manifest: non-empty, from_seq increasing, buckets a power
// of two <= 16 and growing. Older formats had 16 buckets throughout.
Result<std::vector<Bucketing>> ParseBucketing(const json::Value& v, std::string_view format) {
  std::vector<Bucketing> out;
  if (format != kManifestFormat) return std::vector<Bucketing>{Bucketing{1, 16}};
  const json::Value* list = v.find("bucketing");
  if (list == nullptr || !list->is_array() || list->items().empty()) {
    return Status::DataLoss("lake manifest: 'bucketing' is missing or empty");
  }
  for (const json::Value& e : list->items()) {
    Bucketing b;
    ASSIGN_OR_RETURN(b.from_seq, UintField(e, "fromSeq"));
    ASSIGN_OR_RETURN(const uint64_t n, UintField(e, "buckets"));
    const bool power_of_two = n >= 1 && n <= 16 && (n & (n - 1)) == 0;
    if (!power_of_two || (!out.empty() && (b.from_seq <= out.back().from_seq ||
                                           static_cast<int>(n) <= out.back().buckets))) {
      return Status::DataLoss("lake manifest: 'bucketing' is not a growing list of 1, 2, 4, 8, 16");
    }
    b.buckets = static_cast<int>(n);
    out.push_back(b);
  }
  return out;
}

}  // namespace

int BucketsAt(const std::vector<Bucketing>& list, uint64_t seq) {
  if (list.empty()) return 16;
  int buckets = list.front().buckets;
  for (const Bucketing& b : list) {
    if (b.from_seq <= seq) buckets = b.buckets;
  }
  return buckets;
}

std::string CommitDigits(uint64_t commit) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(commit));
  return buf;
}

std::string ManifestName(uint64_t commit) {
  return std::string(kManifestPrefix) + CommitDigits(commit) + std::string(kSuffix);
}

std::string PendingName(uint64_t commit) {
  return std::string(kPendingPrefix) + CommitDigits(commit) + std::string(kSuffix);
}

std::optional<uint64_t> CommitOfName(std::string_view name, bool pending) {
  const std::string_view prefix = pending ? kPendingPrefix : kManifestPrefix;
  if (!name.starts_with(prefix) || !name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
  if (digits.size() != 10) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

std::string SerializeManifest(const Manifest& m) {
  json::Value v = json::Value::Object();
  v.set("format", json::Value::String(std::string(kManifestFormat)));
  v.set("commit", UintValue(m.commit));
  v.set("previousSeq", UintValue(m.previous_seq));
  v.set("seq", UintValue(m.seq));
  v.set("transactionTime", json::Value::String(m.transaction_time));
  v.set("changes", UintValue(m.changes));
  v.set("superseding", UintValue(m.superseding));
  json::Value bucketing = json::Value::Array();
  for (const Bucketing& b : m.bucketing) {
    json::Value e = json::Value::Object();
    e.set("fromSeq", UintValue(b.from_seq));
    e.set("buckets", UintValue(static_cast<uint64_t>(b.buckets)));
    bucketing.push_back(std::move(e));
  }
  v.set("bucketing", std::move(bucketing));
  json::Value output = json::Value::Array();
  for (const ManifestFile& f : m.output) {
    json::Value e = json::Value::Object();
    e.set("type", json::Value::String(f.type));
    e.set("url", json::Value::String(f.url));
    e.set("count", UintValue(f.count));
    e.set("bytes", UintValue(f.bytes));
    output.push_back(std::move(e));
  }
  v.set("output", std::move(output));
  return json::Serialize(v) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  Result<json::Value> parsed = json::Parse(text);
  if (!parsed.ok()) return Status::DataLoss("lake manifest: " + parsed.status().message());
  const json::Value& v = *parsed;
  const std::string_view format = v.is_object() ? v.get_string("format") : "";
  if (format != kManifestFormat && format != kManifestFormatV2 && format != kManifestFormatV1) {
    return Status::DataLoss("lake manifest: not a " + std::string(kManifestFormat) + " manifest");
  }
  Manifest m;
  m.format = std::string(format);
  ASSIGN_OR_RETURN(m.commit, UintField(v, "commit"));
  ASSIGN_OR_RETURN(m.previous_seq, UintField(v, "previousSeq"));
  ASSIGN_OR_RETURN(m.seq, UintField(v, "seq"));
  ASSIGN_OR_RETURN(m.changes, UintField(v, "changes"));
  ASSIGN_OR_RETURN(m.superseding, UintField(v, "superseding"));
  m.transaction_time = std::string(v.get_string("transactionTime"));
  ASSIGN_OR_RETURN(m.bucketing, ParseBucketing(v, format));
  const json::Value* output = v.find("output");
  if (output == nullptr || !output->is_array()) {
    return Status::DataLoss("lake manifest: 'output' is missing");
  }
  for (const json::Value& e : output->items()) {
    ManifestFile f;
    f.type = std::string(e.get_string("type"));
    f.url = std::string(e.get_string("url"));
    ASSIGN_OR_RETURN(f.count, UintField(e, "count"));
    ASSIGN_OR_RETURN(f.bytes, UintField(e, "bytes"));
    if (f.type.empty() || !ValidatePath(f.url).ok() || f.url.empty()) {
      return Status::DataLoss("lake manifest: an output entry has no type or a bad url");
    }
    m.output.push_back(std::move(f));
  }
  return m;
}

Result<std::vector<Manifest>> ReadManifests(FileSystem* fs) {
  std::vector<Manifest> out;
  Result<std::vector<FileInfo>> list = fs->List(kManifestDir);
  if (list.status().code() == StatusCode::kNotFound) return out;
  RETURN_IF_ERROR(list.status());
  for (const FileInfo& f : *list) {
    const std::optional<uint64_t> commit = CommitOfName(f.name, false);
    if (!commit.has_value()) continue;
    ASSIGN_OR_RETURN(std::string text, fs->Read(JoinPath(kManifestDir, f.name)));
    Result<Manifest> m = ParseManifest(text);
    if (!m.ok()) return m.status().WithPrefix(f.name);
    if (m->commit != *commit || m->commit != out.size() + 1) {
      return Status::DataLoss("lake manifest " + f.name + ": commit numbers are not 1, 2, 3...");
    }
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace medhub::lake
