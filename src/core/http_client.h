// A blocking HTTP(S)/1.1 client for medhub's outbound calls: institution sync (FHIR
// `_history` pages), WebHDFS, the device simulator. Built on libcurl; no curl type leaks
// through this header.
//
// Thread safety: one HttpClient per thread (it keeps its connections open for reuse).
// Distinct clients may be used from different threads at once.
//
// Errors: a request that got any HTTP response is Ok, whatever its status — the caller
// decides what a 404 or 503 means. Connection refused, DNS failure, TLS failure and
// timeouts are Unavailable; a malformed URL is InvalidArgument. Nothing throws.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace medhub {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // absolute: http://host:port/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Redirects (3xx with Location) are followed only when asked: WebHDFS's two-step
  // CREATE/APPEND needs to see its 307 and send the data to the DataNode itself.
  bool follow_redirects = false;
  std::chrono::milliseconds timeout{30000};          // whole request
  std::chrono::milliseconds connect_timeout{5000};
  std::string ca_file;  // PEM bundle to trust for https (empty: the system store)
};

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Value of the first header named `name` (lower-case), or "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpClientResponse> Send(const HttpClientRequest& request);
  Result<HttpClientResponse> Get(std::string url) {
    HttpClientRequest r;
    r.url = std::move(url);
    return Send(r);
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes `s` for a URL query value or path segment (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view s);

}  // namespace medhub
