// WebHdfsFileSystem: the lake in HDFS through the WebHDFS REST API (no JVM in-process).
//
// Paths are resolved under `root` on the NameNode named by `base_url` (its HTTP address,
// e.g. http://127.0.0.1:9870). Operations: MKDIRS, two-step CREATE and APPEND (the
// NameNode answers 307 with the DataNode's Location; the data goes there in a second
// request, so redirects are never followed blindly), OPEN with offset/length (redirect
// followed), GETFILESTATUS, LISTSTATUS, RENAME, TRUNCATE, DELETE.
//
// Errors: a RemoteException JSON body is mapped to a Status by its exception name
// (FileNotFoundException → NotFound, FileAlreadyExistsException → AlreadyExists,
// AccessControlException/SecurityException → PermissionDenied, IllegalArgumentException/
// InvalidPathException → InvalidArgument, SafeModeException/RetriableException/
// StandbyException → Unavailable, quota → ResourceExhausted), otherwise by HTTP status;
// an unreachable NameNode or DataNode is Unavailable. Messages name the operation, the
// HDFS path and the server's message.
//
// Round trips: a CREATE normally costs two (NameNode, then DataNode). With
// `reuse_datanode` the DataNode address and query of the first CREATE's redirect are kept
// and later CREATEs (same overwrite flag) go straight to that DataNode with the new path:
// one round trip (the DataNode asks the NameNode itself, over RPC). If that DataNode cannot
// be reached the cached location is dropped and the two-step CREATE is used again. On a
// multi-DataNode cluster this sends every write through one DataNode (the first replica
// lands there; the others are placed by the NameNode as usual).
//
// Retries: requests that are safe to repeat (all but the data-carrying second step of
// APPEND) are retried on Unavailable with exponential backoff (`retries` times, starting at
// `backoff`, doubling, capped at 2 s). RENAME/DELETE that "fail" because an earlier lost
// attempt already succeeded are recognised and reported Ok.
//
// Thread-safety: any number of threads may call at once; each request borrows an HTTP
// client (a kept-alive connection) from an internal pool, so calls from several threads
// run in parallel (the lake writer uses that: WebHDFS is bound by round trips).
#pragma once

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "lake/filesystem.h"

namespace medhub::lake {

struct WebHdfsOptions {
  std::string base_url;    // http://HOST:PORT of the NameNode's HTTP server
  std::string root = "/";  // absolute HDFS path of the lake root
  std::string user;        // user.name; default $USER, else "medhub"
  int retries = 4;
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds timeout{60000};
  bool reuse_datanode = true;  // CREATE straight to the last DataNode (see above)
};

class WebHdfsFileSystem : public FileSystem {
 public:
  explicit WebHdfsFileSystem(WebHdfsOptions options);
  ~WebHdfsFileSystem() override;

  Status MakeDirs(std::string_view path) override;
  Status Create(std::string_view path, std::string_view data, bool overwrite) override;
  Status Append(std::string_view path, std::string_view data) override;
  Result<std::string> Read(std::string_view path, uint64_t offset = 0,
                           std::optional<uint64_t> length = std::nullopt) override;
  Result<FileInfo> Stat(std::string_view path) override;
  Result<std::vector<FileInfo>> List(std::string_view directory) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Truncate(std::string_view path, uint64_t length) override;
  Status Delete(std::string_view path, bool recursive) override;
  std::string Describe() const override;

  // HTTP requests sent so far (every attempt, NameNode and DataNode alike).
  uint64_t requests() const { return requests_.load(); }

  // Requests and their wall time so far, by kind: "NN CREATE", "DN CREATE", "NN RENAME"...
  // (NN: sent to the NameNode's address; DN: to a DataNode). For benchmarks and logs.
  struct RequestKind {
    std::string kind;
    uint64_t count = 0;
    double seconds = 0;  // summed over requests (concurrent ones overlap)
  };
  std::vector<RequestKind> request_stats() const;

 private:
  Result<std::string> HdfsPath(std::string_view path) const;
  std::string Url(const std::string& hdfs_path, std::string_view op, std::string_view params) const;
  // Sends one request, retrying when `idempotent`; maps RemoteException bodies and
  // unexpected statuses (not in `ok_statuses`) to errors.
  Result<HttpClientResponse> Send(HttpClientRequest request, std::string_view op,
                                  const std::string& hdfs_path, bool idempotent,
                                  std::initializer_list<int> ok_statuses);
  // The two-step write: `method` with op to the NameNode, then the data to the DataNode.
  Status TwoStepWrite(std::string_view method, std::string_view op, std::string_view params,
                      const std::string& hdfs_path, std::string_view data, int data_status,
                      bool data_idempotent);
  // CREATE sent straight to the cached DataNode location for `params`, if there is one:
  // nullopt when there is none or it could not be reached (the caller falls back).
  std::optional<Status> DirectCreate(std::string_view params, const std::string& hdfs_path,
                                     std::string_view data, bool data_idempotent);
  void RememberDataNode(std::string_view params, const std::string& location);
  Result<bool> BooleanOp(std::string_view method, std::string_view op, const std::string& hdfs_path,
                         std::string_view params);

  void Count(std::string_view op, bool namenode, double seconds);

  const WebHdfsOptions options_;
  std::atomic<uint64_t> requests_{0};
  mutable std::mutex mu_;
  std::map<std::string, RequestKind, std::less<>> stats_;  // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<HttpClient>> idle_;  // GUARDED_BY(mu_): kept-alive connections
  // GUARDED_BY(mu_): by CREATE params, the DataNode's "http://host:port" and its query.
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> datanode_;
};

// Maps a WebHDFS error response (status + body) to a Status; `context` prefixes the message.
Status WebHdfsError(int http_status, std::string_view body, std::string_view context);

}  // namespace medhub::lake
