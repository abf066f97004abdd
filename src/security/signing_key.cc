#include "security/signing_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/ids.h"
#include "security/password.h"

namespace medhub::security {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxKeyFileBytes = 16 << 10;

Status IoError(const std::string& what, const fs::path& path) {
  return Status::Unavailable(what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Unavailable(std::string("write failed: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncDirectory(const fs::path& dir) {
  Fd d{open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || fsync(d.fd) != 0) return IoError("cannot sync", dir);
  return Status::Ok();
}

// Writes a fresh key to a temporary file and links it to `path` unless a key is there
// already (another process may have won the race; its key is then the one to use).
Status CreateKey(const fs::path& path) {
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate());
  std::string pem = key.Pem();
  const fs::path tmp = path.parent_path() / (".token.key." + NewId());
  Status s;
  {
    Fd f{open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (f.fd < 0) {
      s = IoError("cannot create", tmp);
    } else {
      s = WriteAll(f.fd, pem);
      if (s.ok() && fsync(f.fd) != 0) s = IoError("cannot sync", tmp);
    }
  }
  Wipe(&pem);
  if (s.ok() && link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST)
    s = IoError("cannot create", path);
  unlink(tmp.c_str());
  if (!s.ok()) return s;
  return SyncDirectory(path.parent_path());
}

Result<PrivateKey> ReadKey(const fs::path& path) {
  Fd f{open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ELOOP) return Status::FailedPrecondition(path.string() + " is a symbolic link");
    return IoError("cannot open", path);
  }
  struct stat st {};
  if (fstat(f.fd, &st) != 0) return IoError("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(path.string() + " is not a file");
  if ((st.st_mode & 077) != 0)
    return Status::FailedPrecondition(path.string() +
                                      " is readable by group or others; chmod 600 it");
  if (st.st_size <= 0 || static_cast<size_t>(st.st_size) > kMaxKeyFileBytes)
    return Status::DataLoss(path.string() + " does not hold an Ed25519 PEM private key");
  std::string pem(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < pem.size()) {
    const ssize_t n = read(f.fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  pem.resize(done);
  auto key = PrivateKey::FromPem(pem);
  Wipe(&pem);
  if (!key.ok())
    return Status::DataLoss(path.string() + " does not hold an Ed25519 PEM private key");
  return key;
}

}  // namespace

Result<PrivateKey> LoadOrCreateSigningKey(const std::string& data_dir) {
  const fs::path path = fs::path(data_dir) / kSigningKeyPath;
  const fs::path dir = path.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create", dir);
  }
  if (access(path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return IoError("cannot access", path);
    RETURN_IF_ERROR(CreateKey(path));
  }
  return ReadKey(path);
}

}  // namespace medhub::security
