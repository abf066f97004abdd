#include "cli/importer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "fhir/resource.h"

namespace medhub::cli {
namespace {

void AddError(ImportStats* stats, std::string msg) {
  if (stats->errors.size() < 500) stats->errors.push_back(std::move(msg));
}

bool IsDataFile(const std::filesystem::path& p) {
  return p.extension() == ".json" || p.extension() == ".ndjson";
}

}  // namespace

void ImportStats::Merge(const ImportStats& o) {
  files += o.files;
  resources_ok += o.resources_ok;
  resources_failed += o.resources_failed;
  bytes += o.bytes;
  for (const auto& e : o.errors)
    if (errors.size() < 500) errors.push_back(e);
  if (o.largest_patient_resources > largest_patient_resources) {
    largest_patient_resources = o.largest_patient_resources;
    largest_patient_id = o.largest_patient_id;
  }
}

Status Importer::ImportFiles(const std::vector<std::string>& files, int threads, ImportStats* stats,
                             const std::function<void(size_t, const ImportStats&)>& progress) {
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, done = 0;
  Status failure;
  ImportStats total;
  auto worker = [&] {
    while (true) {
      size_t i;
      {
        std::lock_guard lock(mu);
        if (next >= files.size() || !failure.ok()) return;
        i = next++;
      }
      ImportStats mine;
      Status s = ImportFile(files[i], &mine);
      std::lock_guard lock(mu);
      if (!s.ok() && failure.ok()) failure = s;
      total.Merge(mine);
      ++done;
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(files.size())));
  for (int t = 0; t < n; ++t) pool.emplace_back(worker);
  {
    std::unique_lock lock(mu);
    size_t reported = 0;
    while (done < files.size() && (failure.ok() || done < next)) {
      cv.wait(lock, [&] { return done != reported || (!failure.ok() && done == next); });
      if (done != reported && progress) progress(done, total);
      reported = done;
      if (!failure.ok() && done == next) break;
    }
  }
  for (auto& t : pool) t.join();
  stats->Merge(total);
  return failure;
}

Result<std::vector<std::string>> Importer::ListFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && IsDataFile(it->path())) found.push_back(it->path().string());
      }
      if (ec) return Status::InvalidArgument("cannot list " + p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      return Status::NotFound("no such file or folder: " + p);
    }
  }
  return files;
}

Status Importer::ImportFile(const std::string& path, ImportStats* stats) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  ++stats->files;
  stats->bytes += text.size();
  if (path.ends_with(".ndjson")) {
    ImportNdjson(path, text, stats);
  } else {
    ImportJson(path, text, stats);
  }
  return Status::Ok();
}

void Importer::ImportJson(const std::string& origin, std::string_view text, ImportStats* stats) {
  auto parsed = fhir::ParseResource(text);
  if (!parsed.ok()) {
    ++stats->resources_failed;
    AddError(stats, origin + ": " + parsed.status().ToString());
    return;
  }
  json::Value doc = std::move(parsed).value();
  const std::string_view bundle_type =
      fhir::ResourceType(doc) == "Bundle" ? doc.get_string("type") : "";
  if (bundle_type == "transaction" || bundle_type == "batch") {
    const json::Value* entries = doc.find("entry");
    const size_t n = entries ? entries->items().size() : 0;
    std::string patient;
    for (size_t i = 0; entries && i < n; ++i) {
      const json::Value* r = entries->items()[i].find("resource");
      if (r && fhir::ResourceType(*r) == "Patient") patient = std::string(fhir::ResourceId(*r));
    }
    auto out = api_->ProcessBundle(std::move(doc), /*keep_ids=*/true, server::BundleReply::kNone);
    if (!out.ok()) {
      stats->resources_failed += n;
      AddError(stats, origin + ": " + out.status().ToString());
      return;
    }
    stats->resources_ok += out->entries - out->failed;
    stats->resources_failed += out->failed;
    if (out->failed)
      AddError(stats, origin + ": " + std::to_string(out->failed) + " batch entries failed");
    if (!patient.empty() && n > stats->largest_patient_resources) {
      stats->largest_patient_resources = n;
      stats->largest_patient_id = patient;
    }
    return;
  }
  // A single resource (or a collection/document Bundle stored as a resource).
  std::vector<std::string> unused;
  json::Value bundle = json::Value::Object();
  bundle.set("resourceType", json::Value::String("Bundle"));
  bundle.set("type", json::Value::String("transaction"));
  json::Value entries = json::Value::Array();
  json::Value entry = json::Value::Object();
  json::Value request = json::Value::Object();
  std::string type(fhir::ResourceType(doc));
  std::string id(fhir::ResourceId(doc));
  request.set("method", json::Value::String(id.empty() ? "POST" : "PUT"));
  request.set("url", json::Value::String(id.empty() ? type : type + "/" + id));
  entry.set("resource", std::move(doc));
  entry.set("request", std::move(request));
  entries.push_back(std::move(entry));
  bundle.set("entry", std::move(entries));
  auto out = api_->ProcessBundle(std::move(bundle), /*keep_ids=*/true, server::BundleReply::kNone);
  if (!out.ok()) {
    ++stats->resources_failed;
    AddError(stats, origin + ": " + out.status().ToString());
  } else {
    ++stats->resources_ok;
  }
}

void Importer::ImportNdjson(const std::string& origin, std::string_view text, ImportStats* stats) {
  json::Value bundle;
  size_t line_no = 0, pending = 0, first_line = 1;
  auto flush = [&] {
    if (pending == 0) return;
    auto out =
        api_->ProcessBundle(std::move(bundle), /*keep_ids=*/true, server::BundleReply::kNone);
    if (out.ok()) {
      stats->resources_ok += pending;
    } else {
      stats->resources_failed += pending;
      AddError(stats, origin + ":" + std::to_string(first_line) + "-" + std::to_string(line_no) +
                          ": " + out.status().ToString());
    }
    pending = 0;
  };
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto parsed = fhir::ParseResource(line);
    if (!parsed.ok()) {
      ++stats->resources_failed;
      AddError(stats, origin + ":" + std::to_string(line_no) + ": " + parsed.status().ToString());
      continue;
    }
    if (pending == 0) {
      bundle = json::Value::Object();
      bundle.set("resourceType", json::Value::String("Bundle"));
      bundle.set("type", json::Value::String("transaction"));
      bundle.set("entry", json::Value::Array());
      first_line = line_no;
    }
    json::Value resource = std::move(parsed).value();
    std::string type(fhir::ResourceType(resource));
    std::string id(fhir::ResourceId(resource));
    if (id.empty()) {
      id = NewId();
      resource.set("id", json::Value::String(id));
    }
    json::Value request = json::Value::Object();
    request.set("method", json::Value::String("PUT"));
    request.set("url", json::Value::String(type + "/" + id));
    json::Value entry = json::Value::Object();
    entry.set("resource", std::move(resource));
    entry.set("request", std::move(request));
    bundle.find("entry")->push_back(std::move(entry));
    if (++pending == ndjson_batch_) flush();
  }
  flush();
}

}  // namespace medhub::cli
