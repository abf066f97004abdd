#include "core/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

namespace medhub {
namespace {

// A one-thread loopback server: for each connection reads one request head (and a body
// of Content-Length bytes) and answers with what `reply` returns for it.
class TinyServer {
 public:
  explicit TinyServer(std::function<std::string(const std::string&)> reply)
      : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~TinyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string last_request;

 private:
  void Run() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      for (;;) {
        size_t head_end = req.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          size_t cl = 0;
          size_t p = req.find("Content-Length: ");
          if (p != std::string::npos && p < head_end) cl = std::stoul(req.substr(p + 16));
          if (req.size() >= head_end + 4 + cl) break;
        }
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      last_request = req;
      std::string out = reply_(req);
      (void)!::write(c, out.data(), out.size());
      ::close(c);
    }
  }
  std::function<std::string(const std::string&)> reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string Reply(int status, const std::string& extra_headers, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

TEST(HttpClientTest, SendsMethodHeadersAndBodyAndReadsTheResponse) {
  TinyServer server([](const std::string&) {
    return Reply(201, "Content-Type: application/fhir+json\r\n", "{\"ok\":true}");
  });
  HttpClient client;
  HttpClientRequest req;
  req.method = "POST";
  req.url = server.Url("/fhir/Patient");
  req.headers = {{"Authorization", "Bearer t0k"}};
  req.body = "{\"resourceType\":\"Patient\"}";
  auto res = client.Send(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "{\"ok\":true}");
  EXPECT_EQ(res->Header("content-type"), "application/fhir+json");
  EXPECT_NE(server.last_request.find("POST /fhir/Patient HTTP/1.1"), std::string::npos);
  EXPECT_NE(server.last_request.find("Authorization: Bearer t0k"), std::string::npos);
  EXPECT_NE(server.last_request.find("{\"resourceType\":\"Patient\"}"), std::string::npos);
}

TEST(HttpClientTest, ReportsARedirectUnlessAskedToFollowIt) {
  TinyServer server([&](const std::string& req) {
    if (req.starts_with("GET /a ")) return Reply(307, "Location: /b\r\n", "");
    return Reply(200, "", "landed");
  });
  HttpClient client;
  auto first = client.Get(server.Url("/a"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 307);
  EXPECT_EQ(first->Header("location"), "/b");

  HttpClientRequest follow;
  follow.url = server.Url("/a");
  follow.follow_redirects = true;
  auto second = client.Send(follow);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "landed");
}

TEST(HttpClientTest, AnErrorStatusIsAResponseNotAFailure) {
  TinyServer server([](const std::string&) { return Reply(404, "", "nope"); });
  HttpClient client;
  auto res = client.Get(server.Url("/missing"));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
}

TEST(HttpClientTest, ARefusedConnectionIsUnavailable) {
  uint16_t port;
  {
    TinyServer server([](const std::string&) { return std::string(); });
    port = static_cast<uint16_t>(std::stoi(server.Url("").substr(17)));
  }
  HttpClient client;
  auto res = client.Get("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
}

TEST(HttpClientTest, ANonHttpUrlIsInvalidArgument) {
  HttpClient client;
  auto res = client.Get("file:///etc/passwd");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, UrlEncodeKeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(UrlEncode("2024-01-01T00:00:00+01:00"), "2024-01-01T00%3A00%3A00%2B01%3A00");
  EXPECT_EQ(UrlEncode("a b/c~d"), "a%20b%2Fc~d");
}

}  // namespace
}  // namespace medhub
