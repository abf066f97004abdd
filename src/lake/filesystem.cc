#include "lake/filesystem.h"

#include <utility>

#include "lake/local_filesystem.h"
#include "lake/webhdfs_filesystem.h"

namespace medhub::lake {

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Status::Ok();  // the root
  if (path.front() == '/' || path.back() == '/') {
    return Status::InvalidArgument("lake path '" + std::string(path) +
                                   "' must not start or end with '/'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == ".." ||
        segment.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("lake path '" + std::string(path) +
                                     "' has an empty, '.' or '..' segment");
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  out += '/';
  out += b;
  return out;
}

Result<std::unique_ptr<FileSystem>> OpenFileSystem(std::string_view location) {
  constexpr std::string_view kWebHdfs = "webhdfs://";
  constexpr std::string_view kFile = "file://";
  if (location.starts_with(kWebHdfs)) {
    std::string_view rest = location.substr(kWebHdfs.size());
    const size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    const std::string_view root = slash == std::string_view::npos ? "" : rest.substr(slash);
    if (authority.empty() || authority.find(':') == std::string_view::npos) {
      return Status::InvalidArgument("lake location '" + std::string(location) +
                                     "': expected webhdfs://HOST:PORT/PATH");
    }
    WebHdfsOptions options;
    options.base_url = "http://" + std::string(authority);
    options.root = std::string(root.empty() ? "/" : root);
    return std::unique_ptr<FileSystem>(new WebHdfsFileSystem(std::move(options)));
  }
  if (location.find("://") != std::string_view::npos && !location.starts_with(kFile)) {
    return Status::InvalidArgument("lake location '" + std::string(location) +
                                   "': only a directory, file:// or webhdfs:// is supported");
  }
  if (location.starts_with(kFile)) location.remove_prefix(kFile.size());
  if (location.empty()) return Status::InvalidArgument("empty lake location");
  return std::unique_ptr<FileSystem>(
      new LocalFileSystem(std::string(location), LocalFileSystem::Durability::kAtBarrier));
}

}  // namespace medhub::lake
