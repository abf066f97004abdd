#include "analytics/lake_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <system_error>

#include "lake/filesystem.h"

namespace medhub::analytics {

namespace fs = std::filesystem;

bool IsHiddenName(std::string_view name) {
  return !name.empty() && (name.front() == '_' || name.front() == '.');
}

namespace {

// Reads a whole file with large read() calls, telling the kernel the access is
// sequential (read-ahead); the file's size is the first guess, the loop copes with growth.
Result<std::string> ReadWhole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot open " + path);
  struct stat st {};
  const size_t expected = ::fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::string data(expected + 1, '\0');  // one spare byte detects growth without a 2nd read
  size_t size = 0;
  for (;;) {
    if (size == data.size()) data.resize(data.size() * 2);
    const ssize_t n = ::read(fd, data.data() + size, data.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::Internal("cannot read " + path);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(size);
  return data;
}

void Collect(const fs::path& dir, std::vector<InputFile>* out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (IsHiddenName(name)) continue;
    if (it->is_directory(ec)) {
      Collect(it->path(), out);
    } else if (name.ends_with(".ndjson")) {
      const std::string path = it->path().string();
      out->push_back(InputFile{path, static_cast<uint64_t>(it->file_size(ec)),
                               [path] { return ReadWhole(path); }});
    }
  }
}

}  // namespace

Result<std::vector<InputFile>> LocalLakeFiles(const std::string& root,
                                              const std::vector<std::string>& types) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return Status::NotFound("no lake at " + root);
  std::vector<InputFile> files;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (IsHiddenName(name) || !it->is_directory(ec)) continue;
    if (!types.empty() && std::find(types.begin(), types.end(), name) == types.end()) continue;
    Collect(it->path(), &files);
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return a.name < b.name; });
  return files;
}

namespace {

Status CollectRemote(const std::shared_ptr<lake::FileSystem>& fs, const std::string& dir,
                     std::vector<InputFile>* out) {
  ASSIGN_OR_RETURN(std::vector<lake::FileInfo> entries, fs->List(dir));
  for (const lake::FileInfo& e : entries) {
    if (IsHiddenName(e.name)) continue;
    const std::string path = dir + "/" + e.name;
    if (e.is_directory) {
      RETURN_IF_ERROR(CollectRemote(fs, path, out));
    } else if (e.name.ends_with(".ndjson")) {
      out->push_back(InputFile{fs->Describe() + "/" + path, e.size,
                               [fs, path]() { return fs->Read(path); }});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<InputFile>> LakeFiles(const std::string& location,
                                         const std::vector<std::string>& types) {
  if (location.find("://") == std::string::npos) return LocalLakeFiles(location, types);
  ASSIGN_OR_RETURN(std::unique_ptr<lake::FileSystem> opened, lake::OpenFileSystem(location));
  std::shared_ptr<lake::FileSystem> fs(std::move(opened));
  std::vector<InputFile> files;
  ASSIGN_OR_RETURN(std::vector<lake::FileInfo> top, fs->List(""));
  for (const lake::FileInfo& e : top) {
    if (!e.is_directory || IsHiddenName(e.name)) continue;
    if (!types.empty() && std::find(types.begin(), types.end(), e.name) == types.end()) continue;
    RETURN_IF_ERROR(CollectRemote(fs, e.name, &files));
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return a.name < b.name; });
  return files;
}

}  // namespace medhub::analytics
