#include "lake/webhdfs_filesystem.h"

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <utility>

#include "core/json.h"

namespace medhub::lake {
namespace {

std::string DefaultUser() {
  const char* u = std::getenv("USER");
  return (u != nullptr && *u != '\0') ? u : "medhub";
}

std::string EncodePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out += "/" + UrlEncode(path.substr(start, end - start));
    start = end + 1;
  }
  return out.empty() ? "/" : out;
}

bool Contains(std::initializer_list<int> list, int v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Status StatusForException(std::string_view exception, int http_status, std::string msg) {
  auto is = [&](std::string_view name) { return exception.find(name) != std::string_view::npos; };
  if (is("FileNotFoundException")) return Status::NotFound(std::move(msg));
  if (is("FileAlreadyExistsException") || is("AlreadyBeingCreatedException")) {
    return Status::AlreadyExists(std::move(msg));
  }
  if (is("AccessControlException") || is("SecurityException")) {
    return Status::PermissionDenied(std::move(msg));
  }
  if (is("SafeModeException") || is("RetriableException") || is("StandbyException") ||
      is("RecoveryInProgressException")) {
    return Status::Unavailable(std::move(msg));
  }
  if (is("QuotaExceededException")) return Status::ResourceExhausted(std::move(msg));
  if (is("IllegalArgumentException") || is("InvalidPathException") ||
      is("UnsupportedOperationException")) {
    return Status::InvalidArgument(std::move(msg));
  }
  if (is("ParentNotDirectoryException") || is("PathIsNotEmptyDirectoryException")) {
    return Status::FailedPrecondition(std::move(msg));
  }
  if (http_status == 404) return Status::NotFound(std::move(msg));
  if (http_status == 401 || http_status == 403) return Status::PermissionDenied(std::move(msg));
  if (http_status >= 500) return Status::Unavailable(std::move(msg));
  if (http_status == 400) return Status::InvalidArgument(std::move(msg));
  return Status::FailedPrecondition(std::move(msg));
}

}  // namespace

Status WebHdfsError(int http_status, std::string_view body, std::string_view context) {
  std::string exception;
  std::string message;
  if (Result<json::Value> v = json::Parse(body); v.ok() && v->is_object()) {
    if (const json::Value* re = v->find("RemoteException"); re != nullptr && re->is_object()) {
      exception = std::string(re->get_string("exception"));
      message = std::string(re->get_string("message"));
    }
  }
  std::string msg = std::string(context) + ": HTTP " + std::to_string(http_status);
  if (!exception.empty()) msg += " " + exception;
  if (!message.empty()) {
    msg += ": " + message;
  } else if (exception.empty() && !body.empty()) {
    msg += ": " + std::string(body.substr(0, 200));
  }
  return StatusForException(exception, http_status, std::move(msg));
}

WebHdfsFileSystem::WebHdfsFileSystem(WebHdfsOptions options)
    : options_([&] {
        if (options.user.empty()) options.user = DefaultUser();
        while (options.base_url.size() > 1 && options.base_url.back() == '/') {
          options.base_url.pop_back();
        }
        return std::move(options);
      }()) {}

WebHdfsFileSystem::~WebHdfsFileSystem() = default;

Result<std::string> WebHdfsFileSystem::HdfsPath(std::string_view path) const {
  RETURN_IF_ERROR(ValidatePath(path));
  std::string root = options_.root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (path.empty()) return root;
  return root == "/" ? "/" + std::string(path) : root + "/" + std::string(path);
}

std::string WebHdfsFileSystem::Url(const std::string& hdfs_path, std::string_view op,
                                   std::string_view params) const {
  std::string url = options_.base_url + "/webhdfs/v1" + EncodePath(hdfs_path) +
                    "?op=" + std::string(op) + "&user.name=" + UrlEncode(options_.user);
  if (!params.empty()) url += "&" + std::string(params);
  return url;
}

Result<HttpClientResponse> WebHdfsFileSystem::Send(HttpClientRequest request, std::string_view op,
                                                   const std::string& hdfs_path, bool idempotent,
                                                   std::initializer_list<int> ok_statuses) {
  request.timeout = options_.timeout;
  const std::string context = "webhdfs " + std::string(op) + " " + hdfs_path;
  auto delay = options_.backoff;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<HttpClient> client;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        client = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (client == nullptr) client = std::make_unique<HttpClient>();
    requests_.fetch_add(1);
    const auto sent = std::chrono::steady_clock::now();
    Result<HttpClientResponse> response = client->Send(request);
    Count(op, request.url.starts_with(options_.base_url + "/"),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(client));
    }
    Status error;
    if (!response.ok()) {
      error = response.status().WithPrefix(context + " (" + options_.base_url + ")");
    } else if (Contains(ok_statuses, response->status)) {
      return response;
    } else {
      error = WebHdfsError(response->status, response->body, context);
    }
    if (!idempotent || error.code() != StatusCode::kUnavailable || attempt >= options_.retries) {
      return error;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

void WebHdfsFileSystem::Count(std::string_view op, bool namenode, double seconds) {
  std::string kind = (namenode ? "NN " : "DN ") + std::string(op);
  std::lock_guard lock(mu_);
  RequestKind& k = stats_[kind];
  if (k.kind.empty()) k.kind = std::move(kind);
  k.count++;
  k.seconds += seconds;
}

std::vector<WebHdfsFileSystem::RequestKind> WebHdfsFileSystem::request_stats() const {
  std::lock_guard lock(mu_);
  std::vector<RequestKind> out;
  for (const auto& [kind, k] : stats_) out.push_back(k);
  return out;
}

Status WebHdfsFileSystem::TwoStepWrite(std::string_view method, std::string_view op,
                                       std::string_view params, const std::string& hdfs_path,
                                       std::string_view data, int data_status,
                                       bool data_idempotent) {
  const bool create = op == "CREATE" && options_.reuse_datanode;
  if (create) {
    if (std::optional<Status> direct = DirectCreate(params, hdfs_path, data, data_idempotent)) {
      return *direct;
    }
  }
  HttpClientRequest step1;
  step1.method = std::string(method);
  step1.url = Url(hdfs_path, op, params);
  ASSIGN_OR_RETURN(HttpClientResponse redirect, Send(std::move(step1), op, hdfs_path,
                                                     /*idempotent=*/true, {307}));
  const std::string location = redirect.Header("location");
  if (location.empty()) {
    return Status::Unavailable("webhdfs " + std::string(op) + " " + hdfs_path +
                               ": the NameNode's 307 has no Location");
  }
  HttpClientRequest step2;
  step2.method = std::string(method);
  step2.url = location;
  step2.headers.emplace_back("Content-Type", "application/octet-stream");
  step2.body = std::string(data);
  RETURN_IF_ERROR(Send(std::move(step2), op, hdfs_path, data_idempotent, {data_status}).status());
  if (create) RememberDataNode(params, location);
  return Status::Ok();
}

void WebHdfsFileSystem::RememberDataNode(std::string_view params, const std::string& location) {
  // http://HOST:PORT/webhdfs/v1/PATH?QUERY: the query names the NameNode, user and flags,
  // not the path, so it serves any other file.
  const size_t api = location.find("/webhdfs/v1/");
  const size_t query = location.find('?');
  if (api == std::string::npos || query == std::string::npos || query < api) return;
  std::lock_guard lock(mu_);
  datanode_[std::string(params)] = {location.substr(0, api), location.substr(query + 1)};
}

std::optional<Status> WebHdfsFileSystem::DirectCreate(std::string_view params,
                                                      const std::string& hdfs_path,
                                                      std::string_view data, bool data_idempotent) {
  HttpClientRequest r;
  {
    std::lock_guard lock(mu_);
    const auto it = datanode_.find(params);
    if (it == datanode_.end()) return std::nullopt;
    r.url = it->second.first + "/webhdfs/v1" + EncodePath(hdfs_path) + "?" + it->second.second;
  }
  r.method = "PUT";
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.body = std::string(data);
  const Status s = Send(std::move(r), "CREATE", hdfs_path, /*idempotent=*/false, {201}).status();
  if (s.code() != StatusCode::kUnavailable) return s;
  {
    std::lock_guard lock(mu_);
    datanode_.erase(std::string(params));  // that DataNode is gone or failing: ask again
  }
  if (!data_idempotent) return s;  // a repeat could find our own half-made file
  return std::nullopt;
}

Result<bool> WebHdfsFileSystem::BooleanOp(std::string_view method, std::string_view op,
                                          const std::string& hdfs_path, std::string_view params) {
  HttpClientRequest r;
  r.method = std::string(method);
  r.url = Url(hdfs_path, op, params);
  ASSIGN_OR_RETURN(HttpClientResponse resp, Send(std::move(r), op, hdfs_path, true, {200}));
  ASSIGN_OR_RETURN(json::Value v, json::Parse(resp.body));
  const json::Value* b = v.find("boolean");
  if (b == nullptr || !b->is_bool()) {
    return Status::Unavailable("webhdfs " + std::string(op) + " " + hdfs_path +
                               ": unexpected answer " + resp.body.substr(0, 200));
  }
  return b->as_bool();
}

Status WebHdfsFileSystem::MakeDirs(std::string_view path) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  ASSIGN_OR_RETURN(bool ok, BooleanOp("PUT", "MKDIRS", p, ""));
  if (!ok) return Status::FailedPrecondition("webhdfs MKDIRS " + p + ": refused");
  return Status::Ok();
}

Status WebHdfsFileSystem::Create(std::string_view path, std::string_view data, bool overwrite) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  if (path.empty()) return Status::InvalidArgument("cannot create the lake root as a file");
  // With overwrite the data step may be repeated safely; without, a repeat after a lost
  // answer would report AlreadyExists for our own file, so it is not retried.
  return TwoStepWrite("PUT", "CREATE", overwrite ? "overwrite=true" : "overwrite=false", p, data,
                      201, overwrite);
}

Status WebHdfsFileSystem::Append(std::string_view path, std::string_view data) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  return TwoStepWrite("POST", "APPEND", "", p, data, 200, /*data_idempotent=*/false);
}

Result<std::string> WebHdfsFileSystem::Read(std::string_view path, uint64_t offset,
                                            std::optional<uint64_t> length) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  std::string params = "offset=" + std::to_string(offset);
  if (length.has_value()) {
    if (*length == 0) return std::string();
    params += "&length=" + std::to_string(*length);
  }
  HttpClientRequest r;
  r.url = Url(p, "OPEN", params);
  r.follow_redirects = true;
  ASSIGN_OR_RETURN(HttpClientResponse resp, Send(std::move(r), "OPEN", p, true, {200}));
  return std::move(resp.body);
}

namespace {
Result<FileInfo> ParseFileStatus(const json::Value& st, std::string_view fallback_name) {
  FileInfo info;
  info.name = std::string(st.get_string("pathSuffix"));
  if (info.name.empty()) info.name = std::string(fallback_name);
  info.is_directory = st.get_string("type") == "DIRECTORY";
  if (const json::Value* len = st.find("length"); len != nullptr && !info.is_directory) {
    info.size = static_cast<uint64_t>(len->as_int().value_or(0));
  }
  return info;
}

std::string LastSegment(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
}  // namespace

Result<FileInfo> WebHdfsFileSystem::Stat(std::string_view path) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  HttpClientRequest r;
  r.url = Url(p, "GETFILESTATUS", "");
  ASSIGN_OR_RETURN(HttpClientResponse resp, Send(std::move(r), "GETFILESTATUS", p, true, {200}));
  ASSIGN_OR_RETURN(json::Value v, json::Parse(resp.body));
  const json::Value* st = v.find("FileStatus");
  if (st == nullptr || !st->is_object()) {
    return Status::Unavailable("webhdfs GETFILESTATUS " + p + ": unexpected answer");
  }
  return ParseFileStatus(*st, path.empty() ? "" : LastSegment(p));
}

Result<std::vector<FileInfo>> WebHdfsFileSystem::List(std::string_view directory) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(directory));
  HttpClientRequest r;
  r.url = Url(p, "LISTSTATUS", "");
  ASSIGN_OR_RETURN(HttpClientResponse resp, Send(std::move(r), "LISTSTATUS", p, true, {200}));
  ASSIGN_OR_RETURN(json::Value v, json::Parse(resp.body));
  const json::Value* sts = v.find("FileStatuses");
  const json::Value* list = sts != nullptr ? sts->find("FileStatus") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return Status::Unavailable("webhdfs LISTSTATUS " + p + ": unexpected answer");
  }
  std::vector<FileInfo> out;
  for (const json::Value& st : list->items()) {
    ASSIGN_OR_RETURN(FileInfo info, ParseFileStatus(st, ""));
    if (info.name.empty()) {
      return Status::FailedPrecondition("webhdfs LISTSTATUS " + p + ": not a directory");
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return out;
}

Status WebHdfsFileSystem::Rename(std::string_view from, std::string_view to) {
  ASSIGN_OR_RETURN(std::string src, HdfsPath(from));
  ASSIGN_OR_RETURN(std::string dst, HdfsPath(to));
  // renameoptions=OVERWRITE selects HDFS's rename2: atomic, replaces an existing destination
  // file, and reports failures as RemoteExceptions instead of {"boolean":false}.
  HttpClientRequest r;
  r.method = "PUT";
  r.url = Url(src, "RENAME", "destination=" + UrlEncode(dst) + "&renameoptions=OVERWRITE");
  const Status s = Send(std::move(r), "RENAME", src, true, {200}).status();
  if (s.code() == StatusCode::kNotFound && Stat(to).ok()) {
    // A retried request whose first attempt succeeded: the source is gone, the file is there.
    if (Stat(from).status().code() == StatusCode::kNotFound) return Status::Ok();
  }
  return s;
}

Status WebHdfsFileSystem::Truncate(std::string_view path, uint64_t length) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  ASSIGN_OR_RETURN(bool done,
                   BooleanOp("POST", "TRUNCATE", p, "newlength=" + std::to_string(length)));
  if (done) return Status::Ok();
  // false: the last block is being recovered; the file can be appended to again once it is.
  auto delay = options_.backoff;
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
    ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.size == length) return Status::Ok();
  }
  return Status::Unavailable("webhdfs TRUNCATE " + p + ": block recovery did not finish");
}

Status WebHdfsFileSystem::Delete(std::string_view path, bool recursive) {
  ASSIGN_OR_RETURN(std::string p, HdfsPath(path));
  // false means "did not exist", which the contract calls Ok.
  return BooleanOp("DELETE", "DELETE", p, recursive ? "recursive=true" : "recursive=false")
      .status();
}

std::string WebHdfsFileSystem::Describe() const {
  std::string authority = options_.base_url;
  if (const size_t s = authority.find("://"); s != std::string::npos) {
    authority = authority.substr(s + 3);
  }
  return "webhdfs://" + authority + options_.root;
}

}  // namespace medhub::lake
