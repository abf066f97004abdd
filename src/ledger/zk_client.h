// ZkClient: one ZooKeeper session through the C client (libzookeeper_mt). The C API stays
// inside zk_client.cc: nothing of zookeeper.h crosses this header.
//
// The session connects in the background; calls made while it is not connected fail with
// Unavailable (connection loss, timeout), never block for longer than the session timeout.
// When the server declares the session expired, expired() turns true and every call fails
// with Unavailable: the owner makes a new ZkClient (consortium.cc does so). Watches are
// one-shot, as in ZooKeeper: a call with watch = true arms one, and its firing (like every
// session event) calls `on_event` on the client's event thread, which must not call back
// into the client.
//
// Errors: NotFound (no such node), AlreadyExists, Unavailable (connection loss, session
// expired, timeouts), Internal (anything else the server or client reports).
// Thread-safety: all methods may be called concurrently (the _mt client serializes).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace medhub::ledger {

struct ZkClientOptions {
  std::string hosts;  // "HOST:PORT[,HOST:PORT...]"
  int session_timeout_ms = 10000;
  std::function<void()> on_event;  // a watch fired or the session state changed
};

class ZkClient {
 public:
  // Starts a session (InvalidArgument for an empty host list, Unavailable when the client
  // cannot be created). Does not wait for the connection: see WaitConnected.
  static Result<std::unique_ptr<ZkClient>> Connect(ZkClientOptions options);
  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  // OK once connected; Unavailable after `timeout` or when the session expired.
  Status WaitConnected(std::chrono::milliseconds timeout);
  bool connected() const;
  bool expired() const;

  // Creates a persistent node; with `sequential`, ZooKeeper appends a 10-digit counter to
  // `path`. Returns the created path.
  Result<std::string> Create(const std::string& path, std::string_view data, bool sequential);
  // Creates `path` and its missing ancestors (empty data); OK if they exist.
  Status EnsurePath(const std::string& path);
  // The names (not paths) of the node's children, in no particular order.
  Result<std::vector<std::string>> Children(const std::string& path, bool watch);
  // The node's data (at most 4 MiB).
  Result<std::string> Get(const std::string& path, bool watch);
  // Sets the node's data, creating the node (not its parent) when it does not exist.
  Status Put(const std::string& path, std::string_view data);

  struct Session;  // zk_client.cc

 private:
  explicit ZkClient(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

}  // namespace medhub::ledger
