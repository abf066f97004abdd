#include "ingest/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace medhub::ingest {
namespace {

constexpr char kFile[] = "spool.log";

Status Io(const std::string& what) {
  return Status::Unavailable("spool: " + what + ": " + std::strerror(errno));
}

// Splits "X a b rest" into its first three space-separated words and the rest.
bool SplitLine(std::string_view line, std::string_view* tag, std::string_view* device,
               uint64_t* number, std::string_view* rest) {
  size_t a = line.find(' ');
  if (a == std::string_view::npos) return false;
  size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  size_t c = line.find(' ', b + 1);
  *tag = line.substr(0, a);
  *device = line.substr(a + 1, b - a - 1);
  const std::string num(
      line.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1));
  if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) return false;
  *number = std::stoull(num);
  *rest = c == std::string_view::npos ? std::string_view() : line.substr(c + 1);
  return !device->empty();
}

}  // namespace

Spool::Spool(std::string dir, std::FILE* file) : dir_(std::move(dir)), file_(file) {}

Spool::~Spool() {
  if (file_) std::fclose(file_);
}

Result<std::unique_ptr<Spool>> Spool::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("spool: cannot create " + dir + ": " + ec.message());
  const std::string path = dir + "/" + kFile;
  std::string content;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    content = ss.str();
  }
  const size_t complete = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
  if (complete != content.size() && truncate(path.c_str(), static_cast<off_t>(complete)) != 0 &&
      errno != ENOENT)
    return Io("truncate torn tail of " + path);
  content.resize(complete);
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return Io("open " + path);
  std::unique_ptr<Spool> spool(new Spool(dir, f));
  RETURN_IF_ERROR(spool->Replay(content));
  return spool;
}

Status Spool::Replay(std::string_view content) {
  while (!content.empty()) {
    const size_t nl = content.find('\n');
    const std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl + 1);
    std::string_view tag, device, rest;
    uint64_t n = 0;
    if (!SplitLine(line, &tag, &device, &n, &rest))
      return Status::DataLoss("spool: malformed line '" + std::string(line.substr(0, 80)) + "'");
    const std::string dev(device);
    if (tag == "R") {
      pending_[dev][n] = std::string(rest);
      next_seq_[dev] = std::max(next_seq_[dev], n + 1);
    } else if (tag == "A") {
      pending_[dev].erase(n);
    } else if (tag == "N") {
      next_seq_[dev] = std::max(next_seq_[dev], n);
    } else {
      return Status::DataLoss("spool: unknown record '" + std::string(tag) + "'");
    }
  }
  return Status::Ok();
}

Status Spool::Write(std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) return Io("write");
  return Status::Ok();
}

uint64_t Spool::NextSeq(const std::string& device) {
  std::lock_guard lock(mu_);
  return next_seq_[device]++;
}

Status Spool::Add(const std::string& device, uint64_t seq, std::string_view reading_json) {
  std::lock_guard lock(mu_);
  pending_[device][seq] = std::string(reading_json);
  next_seq_[device] = std::max(next_seq_[device], seq + 1);
  return Write("R " + device + " " + std::to_string(seq) + " " + std::string(reading_json) + "\n");
}

Status Spool::Sync() {
  std::lock_guard lock(mu_);
  if (std::fflush(file_) != 0) return Io("flush");
  if (fdatasync(fileno(file_)) != 0) return Io("fdatasync");
  return Status::Ok();
}

Result<size_t> Spool::Ack(const std::string& device, const std::vector<uint64_t>& seqs) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(device);
  std::string lines;
  size_t n = 0;
  for (uint64_t s : seqs) {
    if (it == pending_.end() || it->second.erase(s) == 0) continue;  // already acknowledged
    lines += "A " + device + " " + std::to_string(s) + "\n";
    ++n;
  }
  RETURN_IF_ERROR(Write(lines));
  return n;
}

std::map<uint64_t, std::string> Spool::Pending(const std::string& device) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(device);
  return it == pending_.end() ? std::map<uint64_t, std::string>() : it->second;
}

size_t Spool::PendingCount() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [device, readings] : pending_) n += readings.size();
  return n;
}

Status Spool::Compact() {
  std::lock_guard lock(mu_);
  const std::string path = dir_ + "/" + kFile;
  const std::string tmp = path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) return Io("open " + tmp);
  std::string data;
  for (const auto& [device, next] : next_seq_)
    data += "N " + device + " " + std::to_string(next) + "\n";
  for (const auto& [device, readings] : pending_)
    for (const auto& [seq, json] : readings)
      data += "R " + device + " " + std::to_string(seq) + " " + json + "\n";
  const bool ok = std::fwrite(data.data(), 1, data.size(), out) == data.size() &&
                  std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  std::fclose(out);
  if (!ok) return Io("write " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Io("rename " + tmp);
  std::fclose(file_);
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) return Io("reopen " + path);
  const int dir_fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace medhub::ingest
