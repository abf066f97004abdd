#include "analytics/lake_layout.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "analytics/records.h"

namespace medhub::analytics {

int LakeBucket(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % 16);
}

namespace {

std::string_view ClinicalMonthSource(const json::Value& r) {
  for (std::string_view k : {"effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued",
                             "onsetDateTime", "recordedDate", "authoredOn", "performedDateTime",
                             "performedPeriod", "occurrenceDateTime", "period", "created",
                             "date"}) {
    const json::Value* v = r.find(k);
    if (v == nullptr) continue;
    if (v->is_object()) v = v->find("start");
    if (v != nullptr && v->is_string() && v->text().size() >= 7) return v->text();
  }
  if (const json::Value* meta = r.find("meta")) {
    if (meta->get_string("lastUpdated").size() >= 7) return meta->get_string("lastUpdated");
  }
  return "1970-01";
}

}  // namespace

std::string LakePartition(const json::Value& r) {
  const std::string type(r.get_string("resourceType"));
  std::string key;
  if (type == "Patient") {
    key = std::string(r.get_string("id"));
  } else {
    std::string_view patient = ReferencedId(r, "subject", "Patient");
    if (patient.empty()) patient = ReferencedId(r, "patient", "Patient");
    key = patient.empty() ? type + "/" + std::string(r.get_string("id")) : std::string(patient);
  }
  char bucket[8];
  std::snprintf(bucket, sizeof bucket, "%02d", LakeBucket(key));
  return type + "/date=" + std::string(ClinicalMonthSource(r).substr(0, 7)) + "/bucket=" + bucket;
}

LakeFolderWriter::LakeFolderWriter(std::string root, uint64_t commit, uint64_t file_bytes)
    : root_(std::move(root)), commit_(commit), file_bytes_(file_bytes) {}

LakeFolderWriter::~LakeFolderWriter() = default;

Status LakeFolderWriter::Add(const json::Value& resource) {
  std::string line = json::Serialize(resource);
  return AddLine(LakePartition(resource), line);
}

Status LakeFolderWriter::AddLine(std::string_view partition, std::string_view line) {
  Open& open = open_[std::string(partition)];
  open.data.append(line);
  open.data.push_back('\n');
  buffered_ += line.size() + 1;
  if (open.data.size() >= file_bytes_) RETURN_IF_ERROR(Flush(std::string(partition), &open));
  if (buffered_ > (256ull << 20)) return Finish();  // bound memory
  return Status::Ok();
}

Status LakeFolderWriter::Flush(const std::string& partition, Open* open) {
  if (open->data.empty()) return Status::Ok();
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(root_) / partition;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  char name[64];
  std::snprintf(name, sizeof name, "part-%010llu-%04d.ndjson",
                static_cast<unsigned long long>(commit_), open->index++);
  const fs::path final_path = dir / name;
  const fs::path tmp_path = dir / (std::string("_") + name);
  {
    std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
    out.write(open->data.data(), static_cast<std::streamsize>(open->data.size()));
    out.close();
    if (!out) return Status::Internal("cannot write " + tmp_path.string());
  }
  fs::rename(tmp_path, final_path, ec);
  if (ec) return Status::Internal("cannot rename " + tmp_path.string() + ": " + ec.message());
  bytes_written_ += open->data.size();
  buffered_ -= std::min<uint64_t>(buffered_, open->data.size());
  open->data.clear();
  open->data.shrink_to_fit();
  return Status::Ok();
}

Status LakeFolderWriter::Finish() {
  for (auto& [partition, open] : open_) RETURN_IF_ERROR(Flush(partition, &open));
  buffered_ = 0;
  return Status::Ok();
}

}  // namespace medhub::analytics
