#include "ledger/zk_client.h"

#define THREADED 1  // the synchronous API of libzookeeper_mt
#include <zookeeper/zookeeper.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <utility>

namespace medhub::ledger {

struct ZkClient::Session {
  ZkClientOptions options;
  zhandle_t* zh = nullptr;
  std::mutex mu;
  std::condition_variable changed;
  std::atomic<bool> connected{false};
  std::atomic<bool> expired{false};
};

namespace {

constexpr int kMaxDataBytes = 4 << 20;  // the jute.maxbuffer deploy/zookeeper sets

void Watcher(zhandle_t*, int type, int state, const char*, void* context) {
  auto* s = static_cast<ZkClient::Session*>(context);
  if (type == ZOO_SESSION_EVENT) {
    std::lock_guard lock(s->mu);
    s->connected = state == ZOO_CONNECTED_STATE;
    if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) s->expired = true;
  }
  s->changed.notify_all();
  if (s->options.on_event) s->options.on_event();
}

Status FromZk(int rc, const std::string& what) {
  switch (rc) {
    case ZOK:
      return Status::Ok();
    case ZNONODE:
      return Status::NotFound("zookeeper: no node " + what);
    case ZNODEEXISTS:
      return Status::AlreadyExists("zookeeper: " + what + " exists");
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
    case ZCLOSING:
      return Status::Unavailable("zookeeper: " + what + ": " + zerror(rc));
    default:
      return Status::Internal("zookeeper: " + what + ": " + zerror(rc));
  }
}

// Once per process: the C client logs only errors, to stderr.
void QuietLogging() {
  static std::once_flag once;
  std::call_once(once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR); });
}

}  // namespace

ZkClient::ZkClient(std::unique_ptr<Session> session) : session_(std::move(session)) {}

ZkClient::~ZkClient() {
  if (session_ && session_->zh) zookeeper_close(session_->zh);
}

Result<std::unique_ptr<ZkClient>> ZkClient::Connect(ZkClientOptions options) {
  if (options.hosts.empty()) return Status::InvalidArgument("no ZooKeeper host given");
  QuietLogging();
  auto session = std::make_unique<Session>();
  session->options = std::move(options);
  session->zh = zookeeper_init(session->options.hosts.c_str(), Watcher,
                               session->options.session_timeout_ms, nullptr, session.get(), 0);
  if (session->zh == nullptr) {
    return Status::Unavailable("cannot create a ZooKeeper client for " + session->options.hosts);
  }
  return std::unique_ptr<ZkClient>(new ZkClient(std::move(session)));
}

Status ZkClient::WaitConnected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(session_->mu);
  session_->changed.wait_for(lock, timeout,
                             [this] { return session_->connected || session_->expired; });
  if (session_->expired) return Status::Unavailable("zookeeper: session expired");
  if (!session_->connected) {
    return Status::Unavailable("zookeeper: not connected to " + session_->options.hosts);
  }
  return Status::Ok();
}

bool ZkClient::connected() const { return session_->connected; }
bool ZkClient::expired() const { return session_->expired; }

Result<std::string> ZkClient::Create(const std::string& path, std::string_view data,
                                     bool sequential) {
  if (session_->expired) return Status::Unavailable("zookeeper: session expired");
  std::string created(path.size() + 64, '\0');
  const int rc =
      zoo_create(session_->zh, path.c_str(), data.data(), static_cast<int>(data.size()),
                 &ZOO_OPEN_ACL_UNSAFE, sequential ? ZOO_PERSISTENT_SEQUENTIAL : ZOO_PERSISTENT,
                 created.data(), static_cast<int>(created.size()));
  RETURN_IF_ERROR(FromZk(rc, "create " + path));
  created.resize(created.find('\0'));
  return created;
}

Status ZkClient::EnsurePath(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    Result<std::string> made = Create(prefix, "", false);
    if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) return made.status();
    if (slash == std::string::npos) return Status::Ok();
  }
}

Result<std::vector<std::string>> ZkClient::Children(const std::string& path, bool watch) {
  if (session_->expired) return Status::Unavailable("zookeeper: session expired");
  String_vector children{0, nullptr};
  const int rc = zoo_get_children(session_->zh, path.c_str(), watch ? 1 : 0, &children);
  RETURN_IF_ERROR(FromZk(rc, "children of " + path));
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(children.count));
  for (int i = 0; i < children.count; ++i) names.emplace_back(children.data[i]);
  deallocate_String_vector(&children);
  return names;
}

Result<std::string> ZkClient::Get(const std::string& path, bool watch) {
  if (session_->expired) return Status::Unavailable("zookeeper: session expired");
  thread_local std::string buffer;
  buffer.resize(kMaxDataBytes);
  int length = kMaxDataBytes;
  Stat stat{};
  const int rc = zoo_get(session_->zh, path.c_str(), watch ? 1 : 0, buffer.data(), &length, &stat);
  RETURN_IF_ERROR(FromZk(rc, "get " + path));
  if (stat.dataLength > kMaxDataBytes) return Status::Internal("zookeeper: " + path + " too large");
  return std::string(buffer.data(), length < 0 ? 0 : static_cast<size_t>(length));
}

Status ZkClient::Put(const std::string& path, std::string_view data) {
  if (session_->expired) return Status::Unavailable("zookeeper: session expired");
  const int rc =
      zoo_set(session_->zh, path.c_str(), data.data(), static_cast<int>(data.size()), -1);
  if (rc != ZNONODE) return FromZk(rc, "set " + path);
  Result<std::string> made = Create(path, data, false);
  if (made.status().code() == StatusCode::kAlreadyExists) return Put(path, data);
  return made.status();
}

}  // namespace medhub::ledger
