#include "ledger/member_files.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/json.h"
#include "ledger/tree_head.h"

namespace medhub::ledger {
namespace {

constexpr size_t kMaxMemberFileBytes = 1u << 20;

// The file's bytes; NotFound when absent.
Result<std::string> ReadSmallFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound("no file " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxMemberFileBytes) return Status::DataLoss(path + " is too large");
  return text.str();
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

Result<MemberInfo> ParseMember(const json::Value& v) {
  if (!v.is_object()) return Status::DataLoss("a member is not an object");
  const std::string name(v.get_string("name"));
  if (!IsValidSignerName(name)) return Status::DataLoss("bad member name '" + name + "'");
  Result<PublicKey> key = PublicKey::FromHex(v.get_string("public_key"));
  if (!key.ok()) return Status::DataLoss("member '" + name + "': " + key.status().message());
  return MemberInfo{name, *key};
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& data, int mode) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok =
      fchmod(fd, static_cast<mode_t>(mode)) == 0 && WriteAll(fd, data) && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || fsync(dir_fd) != 0) {
    if (dir_fd >= 0) close(dir_fd);
    return Status::Unavailable("cannot sync the directory of " + path);
  }
  close(dir_fd);
  return Status::Ok();
}

Result<PrivateKey> ReadMemberKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
  Result<PrivateKey> key = PrivateKey::FromPem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key.ok()) return key.status().WithPrefix(path);
  return key;
}

Result<PrivateKey> ReadOrCreateMemberKey(const std::string& path, bool* created) {
  *created = false;
  Result<PrivateKey> existing = ReadMemberKey(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate());
  std::string pem = key.Pem();
  const Status written = WriteFileAtomically(path, pem, 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  RETURN_IF_ERROR(written);
  *created = true;
  return key;
}

Result<std::vector<MemberInfo>> ReadMembers(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(path));
  Result<json::Value> doc = json::Parse(text);
  if (!doc.ok()) return Status::DataLoss(path + ": " + doc.status().message());
  const json::Value* list = doc->find("members");
  if (list == nullptr || !list->is_array()) return Status::DataLoss(path + ": no members list");
  std::vector<MemberInfo> members;
  std::set<std::string> names;
  for (const json::Value& v : list->items()) {
    Result<MemberInfo> m = ParseMember(v);
    if (!m.ok()) return m.status().WithPrefix(path);
    if (!names.insert(m->name).second) return Status::DataLoss(path + ": member listed twice");
    members.push_back(std::move(m).value());
  }
  return members;
}

Status WriteMembers(const std::string& path, const std::vector<MemberInfo>& members) {
  json::Value list = json::Value::Array();
  for (const MemberInfo& m : members) {
    json::Value v = json::Value::Object();
    v.set("name", json::Value::String(m.name));
    v.set("public_key", json::Value::String(m.public_key.Hex()));
    list.push_back(std::move(v));
  }
  json::Value doc = json::Value::Object();
  doc.set("members", std::move(list));
  return WriteFileAtomically(path, json::Serialize(doc) + "\n", 0644);
}

}  // namespace medhub::ledger
