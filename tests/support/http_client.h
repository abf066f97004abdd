// A minimal blocking HTTP/1.1 client for tests: one keep-alive connection to a loopback
// server, Content-Length bodies only (which is all medhub sends).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace medhub::testing {

struct ClientResponse {
  int status = 0;                                            // 0 when the connection failed
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request (reconnecting if needed) and reads the response. status 0 means the
  // connection failed or broke before a full response arrived.
  ClientResponse Send(const std::string& method, const std::string& target,
                      const std::string& body = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
  ClientResponse Get(const std::string& target) { return Send("GET", target); }
  // Sends "Authorization: Bearer <token>" on every later request that sets no
  // Authorization header of its own ("" stops it).
  void SetBearer(std::string token) { bearer_ = std::move(token); }
  const std::string& bearer() const { return bearer_; }

 private:
  bool Connect();
  void Close();
  std::string host_;
  uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
  std::string bearer_;
};

}  // namespace medhub::testing
