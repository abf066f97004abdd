#include "analytics/lake_layout.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "lake/partition.h"

namespace medhub::analytics {

std::string LakePartition(const json::Value& r) {
  const std::string_view type = r.get_string("resourceType");
  const std::string_view id = r.get_string("id");
  // Resources without a clinical date (Patient, Device) fall back to the lastUpdated year;
  // generated resources have none, so that year is 1970.
  return lake::PartitionDir(type, lake::PartitionYear(r, 0),
                            lake::BucketOf(lake::PatientOf(r, type, id), type, id));
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
