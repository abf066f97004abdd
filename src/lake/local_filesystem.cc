#include "lake/local_filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace medhub::lake {
namespace {

namespace fs = std::filesystem;

Status FromErrno(int err, std::string_view what, std::string_view path) {
  std::string msg = std::string(what) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(msg));
    case EEXIST:
      return Status::AlreadyExists(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return Status::ResourceExhausted(std::move(msg));
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(std::move(msg));
    default:
      return Status::Unavailable(std::move(msg));
  }
}

Status FromErrorCode(const std::error_code& ec, std::string_view what, std::string_view path) {
  return FromErrno(ec.value(), what, path);
}

// Fsyncs a directory so that a new, renamed or removed entry in it is durable.
Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FromErrno(errno, "open directory", dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : FromErrno(err, "fsync directory", dir);
}

std::string ParentOf(const std::string& path) { return fs::path(path).parent_path().string(); }

// Writes all of `data` to `fd`, then fsyncs it. Closes fd.
Status WriteAllAndClose(int fd, std::string_view data, const std::string& path, bool sync) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return FromErrno(err, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return FromErrno(err, "fsync", path);
  }
  if (::close(fd) != 0) return FromErrno(errno, "close", path);
  return Status::Ok();
}

Status MakeDirsAbs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FromErrorCode(ec, "create directory", dir);
  return Status::Ok();
}

}  // namespace

LocalFileSystem::LocalFileSystem(std::string root, Durability durability)
    : root_(std::move(root)), each_call_(durability == Durability::kEachCall) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::string> LocalFileSystem::Resolve(std::string_view path) const {
  RETURN_IF_ERROR(ValidatePath(path));
  return path.empty() ? root_ : root_ + "/" + std::string(path);
}

Status LocalFileSystem::MakeDirs(std::string_view path) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  return MakeDirsAbs(full);
}

Status LocalFileSystem::Create(std::string_view path, std::string_view data, bool overwrite) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  if (path.empty()) return Status::InvalidArgument("cannot create the lake root as a file");
  RETURN_IF_ERROR(MakeDirsAbs(ParentOf(full)));
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(full.c_str(), flags, 0644);
  if (fd < 0) return FromErrno(errno, "create", full);
  RETURN_IF_ERROR(WriteAllAndClose(fd, data, full, each_call_));
  return SyncDirIfEach(ParentOf(full));
}

Status LocalFileSystem::Append(std::string_view path, std::string_view data) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  const int fd = ::open(full.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return FromErrno(errno, "append to", full);
  return WriteAllAndClose(fd, data, full, each_call_);
}

Result<std::string> LocalFileSystem::Read(std::string_view path, uint64_t offset,
                                          std::optional<uint64_t> length) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FromErrno(errno, "open", full);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(full + " is not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t begin = std::min(offset, size);
  const uint64_t want = std::min(size - begin, length.value_or(size - begin));
  std::string out(want, '\0');
  size_t done = 0;
  while (done < want) {
    const ssize_t n = ::pread(fd, out.data() + done, want - done, static_cast<off_t>(begin + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      return FromErrno(err, "read", full);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

Result<FileInfo> LocalFileSystem::Stat(std::string_view path) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) return FromErrno(errno, "stat", full);
  FileInfo info;
  info.name = path.empty() ? "" : fs::path(full).filename().string();
  info.is_directory = S_ISDIR(st.st_mode);
  info.size = info.is_directory ? 0 : static_cast<uint64_t>(st.st_size);
  return info;
}

Result<std::vector<FileInfo>> LocalFileSystem::List(std::string_view directory) {
  ASSIGN_OR_RETURN(std::string full, Resolve(directory));
  std::error_code ec;
  fs::directory_iterator it(full, ec);
  if (ec) return FromErrorCode(ec, "list", full);
  std::vector<FileInfo> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    FileInfo info;
    info.name = it->path().filename().string();
    std::error_code ec2;
    info.is_directory = it->is_directory(ec2);
    if (!info.is_directory) info.size = it->file_size(ec2);
    if (ec2) continue;  // vanished while listing
    out.push_back(std::move(info));
  }
  if (ec) return FromErrorCode(ec, "list", full);
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return out;
}

Status LocalFileSystem::Rename(std::string_view from, std::string_view to) {
  ASSIGN_OR_RETURN(std::string src, Resolve(from));
  ASSIGN_OR_RETURN(std::string dst, Resolve(to));
  if (::rename(src.c_str(), dst.c_str()) != 0) return FromErrno(errno, "rename", src);
  RETURN_IF_ERROR(SyncDirIfEach(ParentOf(dst)));
  if (ParentOf(src) != ParentOf(dst)) return SyncDirIfEach(ParentOf(src));
  return Status::Ok();
}

Status LocalFileSystem::Truncate(std::string_view path, uint64_t length) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  const int fd = ::open(full.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return FromErrno(errno, "truncate", full);
  if (::ftruncate(fd, static_cast<off_t>(length)) != 0 || (each_call_ && ::fsync(fd) != 0)) {
    const int err = errno;
    ::close(fd);
    return FromErrno(err, "truncate", full);
  }
  ::close(fd);
  return Status::Ok();
}

Status LocalFileSystem::Delete(std::string_view path, bool recursive) {
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  std::error_code ec;
  if (recursive) {
    fs::remove_all(full, ec);
  } else {
    fs::remove(full, ec);
  }
  if (ec && ec.value() != ENOENT) return FromErrorCode(ec, "delete", full);
  if (full == root_) return Status::Ok();
  const Status s = SyncDirIfEach(ParentOf(full));
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Status LocalFileSystem::SyncDirIfEach(const std::string& dir) const {
  return each_call_ ? SyncDir(dir) : Status::Ok();
}

Status LocalFileSystem::Barrier() {
  if (each_call_) return Status::Ok();
  const int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::Ok() : FromErrno(errno, "open", root_);
  const int rc = ::syncfs(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : FromErrno(err, "syncfs", root_);
}

std::string LocalFileSystem::Describe() const {
  std::error_code ec;
  const fs::path abs = fs::absolute(root_, ec);
  return "file://" + (ec ? root_ : abs.string());
}

}  // namespace medhub::lake
