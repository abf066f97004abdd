#include "ledger/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <utility>

#include "core/json.h"

namespace medhub::ledger {
namespace {

std::string ToLine(const EvidenceRecord& r) {
  json::Value v = json::Value::Object();
  v.set("kind", json::Value::String(r.kind));
  v.set("member", json::Value::String(r.member));
  v.set("position", json::Value::Int(static_cast<int64_t>(r.position)));
  v.set("first", json::Value::String(r.first));
  v.set("second", json::Value::String(r.second));
  v.set("reporter", json::Value::String(r.reporter));
  v.set("detected_us", json::Value::Int(r.detected_us));
  v.set("note", json::Value::String(r.note));
  return json::Serialize(v) + "\n";
}

Result<EvidenceRecord> FromLine(const std::string& line) {
  Result<json::Value> v = json::Parse(line);
  if (!v.ok() || !v->is_object()) return Status::DataLoss("not an evidence record");
  EvidenceRecord r;
  r.kind = std::string(v->get_string("kind"));
  r.member = std::string(v->get_string("member"));
  const json::Value* position = v->find("position");
  const json::Value* detected = v->find("detected_us");
  if (r.kind.empty() || position == nullptr || !position->as_int()) {
    return Status::DataLoss("not an evidence record");
  }
  r.position = static_cast<uint64_t>(*position->as_int());
  r.first = std::string(v->get_string("first"));
  r.second = std::string(v->get_string("second"));
  r.reporter = std::string(v->get_string("reporter"));
  r.detected_us = detected != nullptr ? detected->as_int().value_or(0) : 0;
  r.note = std::string(v->get_string("note"));
  return r;
}

}  // namespace

std::string EvidenceLog::KeyOf(const EvidenceRecord& r) {
  return r.kind + "\n" + r.member + "\n" + r.first + "\n" + r.second;
}

Result<std::unique_ptr<EvidenceLog>> EvidenceLog::Open(const std::string& path) {
  std::unique_ptr<EvidenceLog> log(new EvidenceLog(path));
  std::ifstream in(path);
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Result<EvidenceRecord> r = FromLine(line);
    if (!r.ok()) return r.status().WithPrefix(path + " line " + std::to_string(number));
    log->keys_.insert(KeyOf(*r));
    log->records_.push_back(std::move(r).value());
  }
  return log;
}

Status EvidenceLog::Add(const EvidenceRecord& record, bool* added) {
  *added = false;
  std::lock_guard lock(mu_);
  const std::string key = KeyOf(record);
  if (keys_.count(key) != 0) return Status::Ok();
  const std::string line = ToLine(record);
  const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable("cannot open " + path_ + ": " + std::strerror(errno));
  const bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  fdatasync(fd) == 0;
  close(fd);
  if (!ok) return Status::Unavailable("cannot write " + path_);
  keys_.insert(key);
  records_.push_back(record);
  *added = true;
  return Status::Ok();
}

std::vector<EvidenceRecord> EvidenceLog::All() const {
  std::lock_guard lock(mu_);
  return records_;
}

}  // namespace medhub::ledger
