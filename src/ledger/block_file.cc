#include "ledger/block_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "core/hash.h"
#include "ledger/bytes.h"

namespace medhub::ledger {
namespace {

std::string ErrnoText(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string Where(uint64_t index, uint64_t offset) {
  return "block " + std::to_string(index) + " at byte offset " + std::to_string(offset);
}

// Reads exactly `n` bytes at `offset` into *out; false on a short read or an error.
bool ReadExactly(int fd, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

bool WriteExactly(int fd, uint64_t offset, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w =
        pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

std::string_view DigestBytes(const Sha256Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// Makes a newly created file's directory entry durable.
Status SyncDirectory(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Unavailable(ErrnoText("cannot open directory of", path));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Status::Unavailable(ErrnoText("cannot sync directory of", path));
  return Status::Ok();
}

void DefaultLog(std::string_view message) { std::cerr << "medhub: ledger: " << message << "\n"; }

}  // namespace

Result<std::unique_ptr<BlockFile>> BlockFile::Open(const std::string& path,
                                                   const BlockFileOptions& options,
                                                   const Visitor& visit) {
  const bool existed = std::filesystem::exists(path);
  if (options.read_only && !existed) return Status::NotFound("no ledger file at " + path);
  const int flags = options.read_only ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CREAT | O_CLOEXEC;
  const int fd = open(path.c_str(), flags, 0600);
  if (fd < 0) return Status::Unavailable(ErrnoText("cannot open", path));
  std::unique_ptr<BlockFile> file(new BlockFile(fd, path, options.read_only));
  if (options.read_only) {
    // A shared lock succeeds only when no writer holds the exclusive one; release it at
    // once so that a reader never keeps a server from starting.
    file->writer_active_ = flock(fd, LOCK_SH | LOCK_NB) != 0;
    if (!file->writer_active_) flock(fd, LOCK_UN);
  } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::Unavailable("the ledger at " + path + " is in use by another process");
  }
  if (!existed) RETURN_IF_ERROR(SyncDirectory(path));
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::Unavailable(ErrnoText("cannot stat", path));
  RETURN_IF_ERROR(file->Scan(options, static_cast<uint64_t>(st.st_size), visit));
  return file;
}

BlockFile::~BlockFile() {
  if (fd_ >= 0) close(fd_);
}

Status BlockFile::HandleTornTail(const BlockFileOptions& options, uint64_t index, uint64_t offset,
                                 const std::string& what) {
  TornTail policy = options.torn_tail;
  if (policy == TornTail::kTruncate && read_only_) policy = TornTail::kFail;
  if (read_only_ && writer_active_) policy = TornTail::kIgnore;  // an append in progress
  switch (policy) {
    case TornTail::kFail:
      return Status::DataLoss(Where(index, offset) + ": " + what);
    case TornTail::kIgnore:
      return Status::Ok();
    case TornTail::kTruncate:
      break;
  }
  if (ftruncate(fd_, static_cast<off_t>(offset)) != 0 || fdatasync(fd_) != 0) {
    return Status::Unavailable(ErrnoText("cannot truncate the torn tail of", path_));
  }
  (options.log ? options.log : DefaultLog)(
      "truncated an incomplete final record (" + Where(index, offset) + ": " + what +
      "), left by a crash during an append; its entries were never acknowledged");
  return Status::Ok();
}

Status BlockFile::Scan(const BlockFileOptions& options, uint64_t file_size, const Visitor& visit) {
  uint64_t offset = 0;
  std::string header;
  std::string payload;
  for (uint64_t index = 0; offset < file_size; ++index) {
    const uint64_t left = file_size - offset;
    if (left < kRecordHeaderSize) {
      return HandleTornTail(options, index, offset,
                            "record header cut short (" + std::to_string(left) + " bytes)");
    }
    if (!ReadExactly(fd_, offset, kRecordHeaderSize, &header)) {
      return Status::Unavailable(ErrnoText("cannot read", path_));
    }
    const uint32_t length = GetBigEndian32(header);
    if (length > kMaxRecordBytes) {
      return Status::DataLoss(Where(index, offset) + ": impossible record length " +
                              std::to_string(length));
    }
    if (length > left - kRecordHeaderSize) {
      return HandleTornTail(options, index, offset,
                            "record of " + std::to_string(length) +
                                " bytes runs past the end "
                                "of the file at " +
                                std::to_string(file_size));
    }
    if (!ReadExactly(fd_, offset + kRecordHeaderSize, length, &payload)) {
      return Status::Unavailable(ErrnoText("cannot read", path_));
    }
    if (DigestBytes(Sha256(payload)) != std::string_view(header).substr(4)) {
      return Status::DataLoss(Where(index, offset) + ": checksum mismatch");
    }
    if (Status s = visit(index, offset, payload); !s.ok()) {
      return Status::DataLoss(Where(index, offset) + ": " + s.message());
    }
    offset += kRecordHeaderSize + length;
    end_ = offset;
  }
  return Status::Ok();
}

Result<uint64_t> BlockFile::Append(std::string_view payload) {
  if (read_only_) return Status::FailedPrecondition("the ledger is open read-only");
  if (broken_) return Status::Internal("an earlier failed append left " + path_ + " unusable");
  if (payload.size() > kMaxRecordBytes) return Status::InvalidArgument("block too large");
  std::string record;
  record.reserve(kRecordHeaderSize + payload.size());
  PutU32(&record, static_cast<uint32_t>(payload.size()));
  record.append(DigestBytes(Sha256(payload)));
  record.append(payload);
  const uint64_t offset = end_;
  if (!WriteExactly(fd_, offset, record) || fdatasync(fd_) != 0) {
    const Status error = Status::Unavailable(ErrnoText("cannot append to", path_));
    if (ftruncate(fd_, static_cast<off_t>(offset)) != 0) broken_ = true;
    return error;
  }
  end_ = offset + record.size();
  return offset;
}

Result<std::string> BlockFile::Read(uint64_t offset) const {
  std::string header;
  std::string payload;
  if (!ReadExactly(fd_, offset, kRecordHeaderSize, &header)) {
    return Status::Unavailable(ErrnoText("cannot read", path_));
  }
  const uint32_t length = GetBigEndian32(header);
  if (length > kMaxRecordBytes || !ReadExactly(fd_, offset + kRecordHeaderSize, length, &payload)) {
    return Status::DataLoss("record at byte offset " + std::to_string(offset) + " is unreadable");
  }
  if (DigestBytes(Sha256(payload)) != std::string_view(header).substr(4)) {
    return Status::DataLoss("record at byte offset " + std::to_string(offset) +
                            ": checksum mismatch");
  }
  return payload;
}

}  // namespace medhub::ledger
