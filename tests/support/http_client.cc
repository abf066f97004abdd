#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace medhub::testing {

std::string ClientResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool HttpClient::Connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

ClientResponse HttpClient::Send(const std::string& method, const std::string& target,
                                const std::string& body,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  ClientResponse out;
  if (fd_ < 0 && !Connect()) return out;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
  bool has_type = false;
  bool has_auth = false;
  for (const auto& [k, v] : headers) has_auth |= strcasecmp(k.c_str(), "authorization") == 0;
  if (!has_auth && !bearer_.empty()) req += "Authorization: Bearer " + bearer_ + "\r\n";
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type |= strcasecmp(k.c_str(), "content-type") == 0;
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/fhir+json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      Close();
      return out;
    }
    sent += static_cast<size_t>(n);
  }
  auto fill = [&]() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      Close();
      return out;
    }
  }
  const std::string head = buffer_.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  const size_t sp = status_line.find(' ');
  const int status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
  size_t content_length = 0;
  bool close_after = false;
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    pos = e + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    if (name == "content-length") content_length = std::strtoull(value.c_str(), nullptr, 10);
    if (name == "connection" && strcasecmp(value.c_str(), "close") == 0) close_after = true;
    out.headers.emplace_back(std::move(name), std::move(value));
  }
  const bool has_body = method != "HEAD" && status != 204 && status != 304;
  const size_t need = header_end + 4 + (has_body ? content_length : 0);
  while (buffer_.size() < need) {
    if (!fill()) {
      Close();
      out.headers.clear();
      return out;
    }
  }
  out.status = status;
  out.body = buffer_.substr(header_end + 4, need - header_end - 4);
  buffer_.erase(0, need);
  if (close_after) Close();
  return out;
}

}  // namespace medhub::testing
