#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server/self_signed.h"

namespace medhub::server {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------
// A small blocking HTTP/1.1 client on POSIX sockets.

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
  size_t header_count(std::string_view name) const {
    size_t n = 0;
    for (const auto& h : headers) n += h.first == name;
    return n;
  }
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Client {
 public:
  // Connects to 127.0.0.1:port; reads time out after `timeout`.
  explicit Client(uint16_t port, milliseconds timeout = milliseconds(10'000)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      connect_errno_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  int connect_errno() const { return connect_errno_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response, interim (1xx) ones included (Content-Length framed; no body for a
  // HEAD). nullopt on EOF, error, timeout or garbage.
  std::optional<ClientResponse> ReadResponse(bool head = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    ClientResponse r;
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(Lower(line.substr(0, colon)), value);
      pos = next + 2;
    }
    size_t length = 0;
    if (!head && r.status >= 200 && !r.header("content-length").empty())
      length = std::stoul(r.header("content-length"));
    while (buf_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True if the server closed the connection (EOF or reset) before sending anything more;
  // false on data or on a read timeout.
  bool ReadsEof() {
    if (!buf_.empty()) return false;
    char c;
    for (;;) {
      ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      return false;
    }
  }

  // Everything the server sends until it closes the connection (EOF or reset); nullopt on
  // a read timeout.
  std::optional<std::string> ReadUntilClose() {
    std::string out = std::move(buf_);
    buf_.clear();
    char tmp[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return out;
      if (n < 0) return std::nullopt;
      out.append(tmp, static_cast<size_t>(n));
    }
  }

  std::optional<ClientResponse> Request(std::string_view raw, bool head = false) {
    if (!Send(raw)) return std::nullopt;
    return ReadResponse(head);
  }

 private:
  bool Fill() {
    char tmp[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string buf_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

// ---------------------------------------------------------------------------------------
// Server helpers.

struct ErrorCalls {
  std::mutex mu;
  std::vector<int> statuses;
};

ErrorResponder TestErrorResponder(std::shared_ptr<ErrorCalls> calls = nullptr) {
  return [calls](int status, std::string_view message) {
    if (calls) {
      std::lock_guard lock(calls->mu);
      calls->statuses.push_back(status);
    }
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/fhir+json");
    r.body =
        "{\"resourceType\":\"OperationOutcome\",\"diagnostics\":\"" + std::string(message) + "\"}";
    return r;
  };
}

HttpServerOptions TestOptions() {
  HttpServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  return o;
}

std::unique_ptr<HttpServer> MustStart(HttpHandler handler,
                                      HttpServerOptions options = TestOptions(),
                                      ErrorResponder error_responder = TestErrorResponder()) {
  auto r = HttpServer::Start(options, std::move(handler), std::move(error_responder));
  if (!r.ok()) {
    ADD_FAILURE() << "Start failed: " << r.status().ToString();
    return nullptr;
  }
  return std::move(r).value();
}

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain");
  r.body = std::move(body);
  return r;
}

HttpHandler EchoPath() {
  return [](const HttpRequest& req) { return Text(200, req.method + " " + req.path); };
}

// ---------------------------------------------------------------------------------------

TEST(HttpServerTest, AGetGetsTheHandlersStatusHeadersAndBodyWithPathAndQueryDecoded) {
  std::mutex mu;
  std::optional<HttpRequest> seen;
  auto server = MustStart([&](const HttpRequest& req) {
    {
      std::lock_guard lock(mu);
      seen = req;
    }
    HttpResponse r;
    r.status = 201;
    r.headers = {{"Content-Type", "application/fhir+json"}, {"ETag", "W/\"3\""}};
    r.body = R"({"resourceType":"Patient"})";
    return r;
  });
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->port(), 0);

  Client c(server->port());
  ASSERT_TRUE(c.connected());
  auto resp = c.Request(
      Get("/fhir/Pat%69ent?name=J%C3%B6rg&x=a+b&flag&&e=&%3D=%26", "X-Custom-Header: Yes\r\n"));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->header("content-type"), "application/fhir+json");
  EXPECT_EQ(resp->header("etag"), "W/\"3\"");
  EXPECT_EQ(resp->header("server"), "medhub");
  EXPECT_EQ(resp->header("content-length"), "26");
  EXPECT_EQ(resp->body, R"({"resourceType":"Patient"})");

  std::lock_guard lock(mu);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->method, "GET");
  EXPECT_EQ(seen->target, "/fhir/Pat%69ent?name=J%C3%B6rg&x=a+b&flag&&e=&%3D=%26");
  EXPECT_EQ(seen->path, "/fhir/Patient");
  std::vector<std::pair<std::string, std::string>> want = {
      {"name", "J\xC3\xB6rg"}, {"x", "a b"}, {"flag", ""}, {"e", ""}, {"=", "&"}};
  EXPECT_EQ(seen->query, want);
  EXPECT_EQ(seen->header("x-custom-header"), "Yes");
  EXPECT_EQ(seen->header("host"), "localhost");
  EXPECT_EQ(seen->header("absent"), "");
  for (const auto& [name, value] : seen->headers) EXPECT_EQ(name, Lower(name));
  EXPECT_TRUE(seen->body.empty());
  EXPECT_EQ(seen->remote_address.rfind("127.0.0.1:", 0), 0u) << seen->remote_address;
}

TEST(HttpServerTest, APostBodyReachesTheHandlerAndAHandlerContentLengthIsNotDuplicated) {
  auto server = MustStart([](const HttpRequest& req) {
    HttpResponse r = Text(200, "got " + req.body);
    r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
    return r;
  });
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto resp = c.Request(
      "POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "got hello");
  EXPECT_EQ(resp->header_count("content-length"), 1u);
  EXPECT_EQ(resp->header("content-length"), "9");
}

TEST(HttpServerTest, AKeepAliveConnectionAnswersSeveralRequestsInTurn) {
  std::atomic<int> calls{0};
  auto server = MustStart([&](const HttpRequest& req) {
    ++calls;
    return Text(200, req.path);
  });
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    auto resp = c.Request(Get("/r/" + std::to_string(i)));
    ASSERT_TRUE(resp.has_value()) << "request " << i;
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "/r/" + std::to_string(i));
    EXPECT_NE(Lower(resp->header("connection")), "close");
  }
  EXPECT_EQ(calls.load(), 5);
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = MustStart(EchoPath());
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/a") + Get("/b") + "DELETE /c HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (std::string want : {"GET /a", "GET /b", "DELETE /c"}) {
    auto resp = c.ReadResponse();
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, want);
  }
}

TEST(HttpServerTest, AThousandConcurrentKeepAliveConnectionsAreAllServedTwice) {
  constexpr int kConnections = 1000;
  std::atomic<int> calls{0};
  auto server = MustStart([&](const HttpRequest& req) {
    ++calls;
    return Text(200, req.path);
  });
  ASSERT_NE(server, nullptr);
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * kConnections + 100) {
    GTEST_SKIP() << "open-file limit " << rl.rlim_cur << " is too low even after raising";
  }

  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(clients.back()->connected())
        << "connection " << i << ": " << std::strerror(clients.back()->connect_errno());
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      ASSERT_TRUE(clients[i]->Send(Get("/c/" + std::to_string(i))))
          << "round " << round << " send " << i;
    }
    int ok = 0;
    for (int i = 0; i < kConnections; ++i) {
      auto resp = clients[i]->ReadResponse();
      ASSERT_TRUE(resp.has_value()) << "round " << round << " connection " << i;
      EXPECT_EQ(resp->status, 200);
      EXPECT_EQ(resp->body, "/c/" + std::to_string(i));
      ok += resp->status == 200;
    }
    EXPECT_EQ(ok, kConnections) << "round " << round;
  }
  EXPECT_EQ(calls.load(), 2 * kConnections);
}

TEST(HttpServerTest, AnAnnouncedBodyOverTheLimitGets413WithoutCallingTheHandler) {
  std::atomic<int> calls{0};
  auto errors = std::make_shared<ErrorCalls>();
  HttpServerOptions o = TestOptions();
  o.max_body_bytes = 1000;
  auto server = MustStart(
      [&](const HttpRequest& req) {
        ++calls;
        return Text(200, std::to_string(req.body.size()));
      },
      o, TestErrorResponder(errors));
  ASSERT_NE(server, nullptr);

  {  // Content-Length over the limit: answered before the body is sent
    Client c(server->port());
    auto resp = c.Request("POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 413);
    EXPECT_NE(resp->body.find("OperationOutcome"), std::string::npos);
    EXPECT_EQ(Lower(resp->header("connection")), "close");
    EXPECT_TRUE(c.ReadsEof());
  }
  {  // the whole oversized body already sent: still a clean 413, not a reset
    Client c(server->port());
    std::string big(200'000, 'x');
    auto resp = c.Request("POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(big.size()) + "\r\n\r\n" + big);
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 413);
  }
  {  // a chunked body that grows over the limit
    Client c(server->port());
    std::string chunk(600, 'y');
    std::string req = "POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    req += "258\r\n" + chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n";
    auto resp = c.Request(req);
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 413);
  }
  {  // exactly at the limit is fine
    Client c(server->port());
    auto resp = c.Request("POST /fhir/Bundle HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                          std::string(1000, 'z'));
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "1000");
  }
  EXPECT_EQ(calls.load(), 1);
  std::lock_guard lock(errors->mu);
  EXPECT_EQ(errors->statuses, (std::vector<int>{413, 413, 413}));
}

TEST(HttpServerTest, EveryRequestTheServerRefusesItselfIsReportedWithItsPeerAndTarget) {
  struct Seen {
    std::mutex mu;
    std::vector<std::string> lines;
  };
  auto seen = std::make_shared<Seen>();
  HttpServerOptions o = TestOptions();
  o.max_body_bytes = 100;
  o.max_header_bytes = 1024;
  o.on_refused = [seen](const RefusedRequest& r) {
    std::lock_guard lock(seen->mu);
    const bool local = r.remote_address.starts_with("127.0.0.1:");
    seen->lines.push_back(std::to_string(r.status) + " " + std::string(r.method) + " " +
                          std::string(r.target) + (local ? "" : " (no peer)"));
  };
  auto server = MustStart(
      [](const HttpRequest& req) -> HttpResponse {
        if (req.path == "/throw") throw std::runtime_error("boom");
        if (req.path == "/bad-status") return Text(42, "not a status");
        return Text(200, "ok");
      },
      o);
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> requests = {
      "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
      Get("/", "X-Big: " + std::string(4000, 'a') + "\r\n"),
      "GET\r\n\r\n",
      Get("/throw"),
      Get("/bad-status"),
      Get("/fine"),
  };
  for (const std::string& request : requests) {
    Client c(server->port());
    ASSERT_TRUE(c.Request(request).has_value()) << request;
  }
  std::lock_guard lock(seen->mu);
  ASSERT_EQ(seen->lines.size(), 5u);
  EXPECT_EQ(seen->lines[0], "413 POST /big");
  // The request line is known once the parser got it, which depends on how the bytes came.
  EXPECT_TRUE(seen->lines[1] == "431  " || seen->lines[1] == "431 GET /") << seen->lines[1];
  EXPECT_EQ(seen->lines[2], "400  ");
  EXPECT_EQ(seen->lines[3], "500 GET /throw");
  EXPECT_EQ(seen->lines[4], "500 GET /bad-status");  // an invalid status became a 500
}

TEST(HttpServerTest, AMalformedRequestLineGets400AndTheConnectionIsClosed) {
  std::atomic<int> calls{0};
  auto server = MustStart([&](const HttpRequest&) {
    ++calls;
    return Text(200, "");
  });
  ASSERT_NE(server, nullptr);
  for (std::string bad : {"GET /x HTTP/9.Z\r\nHost: x\r\n\r\n", "GET\r\n\r\n",
                          "GET /x HTTP/1.1\r\nBad Header Line\r\n\r\n"}) {
    Client c(server->port());
    auto resp = c.Request(bad);
    ASSERT_TRUE(resp.has_value()) << bad;
    EXPECT_EQ(resp->status, 400) << bad;
    EXPECT_NE(resp->body.find("malformed"), std::string::npos);
    EXPECT_TRUE(c.ReadsEof()) << bad;
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, AHeaderOverTheLimitGets431) {
  HttpServerOptions o = TestOptions();
  o.max_header_bytes = 1024;
  auto server = MustStart(EchoPath(), o);
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto resp = c.Request(Get("/", "X-Big: " + std::string(4000, 'a') + "\r\n"));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 431);
}

TEST(HttpServerTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions o = TestOptions();
  o.idle_timeout = milliseconds(200);
  auto server = MustStart(EchoPath(), o);
  ASSERT_NE(server, nullptr);

  Client silent(server->port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.ReadsEof());

  Client after_request(server->port());
  auto resp = after_request.Request(Get("/once"));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(after_request.ReadsEof());
}

TEST(HttpServerTest, ARequestSlowerThanTheReadTimeoutIsClosed) {
  HttpServerOptions o = TestOptions();
  o.read_timeout = milliseconds(200);
  auto server = MustStart(EchoPath(), o);
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n"));  // never finished
  EXPECT_TRUE(c.ReadsEof());
}

TEST(HttpServerTest, ShutdownLetsAnInFlightRequestFinishThenRefusesNewConnections) {
  std::atomic<bool> entered{false};
  auto server = MustStart([&](const HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(milliseconds(300));
    return Text(200, "finished");
  });
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();

  Client busy(port);
  Client idle(port);
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  for (int i = 0; i < 5000 && !entered; ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(entered.load());

  std::thread stopper([&] { server->Shutdown(); });
  auto resp = busy.ReadResponse();
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "finished");
  EXPECT_EQ(Lower(resp->header("connection")), "close");
  EXPECT_TRUE(busy.ReadsEof());
  EXPECT_TRUE(idle.ReadsEof());
  stopper.join();
  server->Shutdown();  // idempotent
  server->Wait();
  server->Wait();

  Client late(port);
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.connect_errno(), ECONNREFUSED);
}

TEST(HttpServerTest, ShutdownDoesNotWaitForIdleConnectionsToTimeOut) {
  HttpServerOptions o = TestOptions();
  o.drain_timeout = milliseconds(20'000);
  auto server = MustStart(EchoPath(), o);
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto resp = c.Request(Get("/x"));
  ASSERT_TRUE(resp.has_value());
  auto start = std::chrono::steady_clock::now();
  server->Shutdown();
  server->Wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(10'000));
  EXPECT_TRUE(c.ReadsEof());
}

TEST(HttpServerTest, AHandlerOutlivingTheDrainTimeoutIsCutOffAndWaitStillReturns) {
  std::atomic<bool> entered{false};
  HttpServerOptions o = TestOptions();
  o.drain_timeout = milliseconds(100);
  auto server = MustStart(
      [&](const HttpRequest&) {
        entered = true;
        std::this_thread::sleep_for(milliseconds(600));
        return Text(200, "too late");
      },
      o);
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/slow")));
  for (int i = 0; i < 5000 && !entered; ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(entered.load());
  server->Shutdown();
  EXPECT_TRUE(c.ReadsEof());  // closed without a response
  server->Wait();
}

TEST(HttpServerTest, DestroyingARunningServerShutsItDown) {
  auto server = MustStart(EchoPath());
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.Request(Get("/")).has_value());
  server.reset();
  EXPECT_TRUE(c.ReadsEof());
}

TEST(HttpServerTest, AHandlerExceptionBecomesA500FromTheErrorResponder) {
  auto errors = std::make_shared<ErrorCalls>();
  auto server = MustStart(
      [](const HttpRequest& req) -> HttpResponse {
        if (req.path == "/int") throw 42;
        throw std::runtime_error("boom");
      },
      TestOptions(), TestErrorResponder(errors));
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  for (const char* path : {"/std", "/int"}) {
    auto resp = c.Request(Get(path));
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 500);
    EXPECT_NE(resp->body.find("internal error"), std::string::npos);
  }
  // the connection survives a handler failure
  std::lock_guard lock(errors->mu);
  EXPECT_EQ(errors->statuses, (std::vector<int>{500, 500}));
}

TEST(HttpServerTest, AHeadRequestGetsHeadersWithoutABody) {
  auto server = MustStart(
      [](const HttpRequest& req) { return Text(200, req.method == "HEAD" ? "" : "0123456789"); });
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto head = c.Request("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "0");
  // the connection stays in sync: the next response is read correctly
  auto get = c.Request(Get("/x"));
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->body, "0123456789");
}

TEST(HttpServerTest, AHeadRequestKeepsTheHandlersContentLengthAndSendsNoBody) {
  auto server = MustStart([](const HttpRequest&) {
    HttpResponse r = Text(200, "0123456789");
    r.headers.emplace_back("Content-Length", "10");
    return r;
  });
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto head = c.Request("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->header("content-length"), "10");
  auto get = c.Request(Get("/x"));  // would misparse if the HEAD had carried a body
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "0123456789");
}

TEST(HttpServerTest, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  auto server = MustStart(EchoPath());
  ASSERT_NE(server, nullptr);
  {
    Client c(server->port());
    auto resp = c.Request("GET /old HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "GET /old");
    EXPECT_TRUE(c.ReadsEof());
  }
  {
    Client c(server->port());
    auto resp = c.Request("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(Lower(resp->header("connection")), "keep-alive");
    resp = c.Request("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->body, "GET /b");
  }
  {
    Client c(server->port());
    auto resp = c.Request(Get("/bye", "Connection: close\r\n"));
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(Lower(resp->header("connection")), "close");
    EXPECT_TRUE(c.ReadsEof());
  }
}

TEST(HttpServerTest, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  auto server = MustStart([](const HttpRequest& req) { return Text(200, req.body); });
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(
      c.Send("PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  auto interim = c.ReadResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  auto resp = c.Request("data");
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "data");
}

TEST(HttpServerTest, BindingAPortAlreadyInUseFailsWithUnavailable) {
  auto first = MustStart(EchoPath());
  ASSERT_NE(first, nullptr);
  HttpServerOptions o = TestOptions();
  o.port = first->port();
  auto second = HttpServer::Start(o, EchoPath(), TestErrorResponder());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(std::to_string(o.port)), std::string::npos)
      << second.status().message();
  // the first server is unaffected
  Client c(first->port());
  auto resp = c.Request(Get("/still"));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
}

// ---------------------------------------------------------------------------------------
// TLS. A certificate for localhost / 127.0.0.1 is generated once per run.

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using BeastResponse = bhttp::response<bhttp::string_body>;

class TlsFiles {
 public:
  static const TlsFiles& Get() {
    static const TlsFiles* files = new TlsFiles();
    return *files;
  }
  std::filesystem::path dir;
  std::string cert, key;              // a matching pair
  std::string other_cert, other_key;  // another pair
  std::string garbage;                // not PEM

 private:
  TlsFiles() {
    dir =
        std::filesystem::temp_directory_path() / ("medhub-tls-test-" + std::to_string(::getpid()));
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    other_cert = (dir / "other-cert.pem").string();
    other_key = (dir / "other-key.pem").string();
    garbage = (dir / "garbage.pem").string();
    Status s = WriteSelfSigned(cert, key);
    if (s.ok()) s = WriteSelfSigned(other_cert, other_key);
    if (!s.ok()) ADD_FAILURE() << s.ToString();
    std::ofstream(garbage) << "not a certificate\n";
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(Get().dir, ec);
    });
  }
};

HttpServerOptions TlsOptions() {
  HttpServerOptions o = TestOptions();
  o.tls_cert_file = TlsFiles::Get().cert;
  o.tls_key_file = TlsFiles::Get().key;
  return o;
}

// A client context that trusts only the test certificate.
std::unique_ptr<ssl::context> ClientContext(int max_version = 0) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->load_verify_file(TlsFiles::Get().cert);
  ctx->set_verify_mode(ssl::verify_peer);
  if (max_version) SSL_CTX_set_max_proto_version(ctx->native_handle(), max_version);
  return ctx;
}

// A blocking HTTPS client on Asio SSL that verifies the server's certificate and host name;
// every operation is bounded by `timeout`.
class TlsClient {
 public:
  TlsClient(net::io_context& ioc, ssl::context& ctx, uint16_t port,
            milliseconds timeout = milliseconds(10'000))
      : ioc_(ioc), stream_(ioc, ctx), timeout_(timeout) {
    stream_.set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
    boost::system::error_code ec;
    stream_.lowest_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
      error_ = "connect: " + ec.message();
      return;
    }
    stream_.async_handshake(ssl::stream_base::client,
                            [&](boost::system::error_code hec) { ec = hec; });
    if (!Run()) {
      error_ = "handshake timed out";
    } else if (ec) {
      error_ = "handshake: " + ec.message();
    } else {
      connected_ = true;
    }
  }

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }
  std::string protocol() { return SSL_get_version(stream_.native_handle()); }

  std::optional<BeastResponse> Request(std::string_view target) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "localhost");
    boost::system::error_code ec;
    bhttp::async_write(stream_, req, [&](boost::system::error_code wec, size_t) { ec = wec; });
    if (!Run() || ec) return std::nullopt;
    return ReadResponse();
  }

  std::optional<BeastResponse> ReadResponse() {
    BeastResponse res;
    boost::system::error_code ec;
    bhttp::async_read(stream_, buf_, res, [&](boost::system::error_code rec, size_t) { ec = rec; });
    if (!Run() || ec) return std::nullopt;
    return res;
  }

  // True if the server closed the connection (close_notify, EOF or reset) before sending
  // anything more.
  bool ReadsEof() {
    if (buf_.size() > 0) return false;
    char c;
    boost::system::error_code ec;
    size_t n = 0;
    stream_.async_read_some(net::buffer(&c, 1), [&](boost::system::error_code rec, size_t got) {
      ec = rec;
      n = got;
    });
    if (!Run()) return false;
    return n == 0 && (ec == net::error::eof || ec == ssl::error::stream_truncated ||
                      ec == net::error::connection_reset);
  }

 private:
  // Runs until the pending operation completes; false on timeout (the socket is closed).
  bool Run() {
    ioc_.restart();
    ioc_.run_for(timeout_);
    if (ioc_.stopped()) return true;
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
    ioc_.restart();
    ioc_.run();
    return false;
  }

  net::io_context& ioc_;
  ssl::stream<net::ip::tcp::socket> stream_;
  milliseconds timeout_;
  boost::beast::flat_buffer buf_;
  bool connected_ = false;
  std::string error_;
};

TEST(HttpServerTlsTest, AVerifiedGetOverTls13GetsTheResponseWithHsts) {
  auto server = MustStart([](const HttpRequest& req) { return Text(200, "secure " + req.path); },
                          TlsOptions());
  ASSERT_NE(server, nullptr);
  net::io_context ioc;
  auto ctx = ClientContext();
  TlsClient c(ioc, *ctx, server->port());
  ASSERT_TRUE(c.connected()) << c.error();
  EXPECT_EQ(c.protocol(), "TLSv1.3");
  auto resp = c.Request("/hello");
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->result_int(), 200u);
  EXPECT_EQ(resp->body(), "secure /hello");
  EXPECT_EQ((*resp)[bhttp::field::strict_transport_security], "max-age=31536000");
}

TEST(HttpServerTlsTest, PlainHttpResponsesCarryNoHsts) {
  auto server = MustStart(EchoPath());
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  auto resp = c.Request(Get("/"));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->header("strict-transport-security"), "");
}

TEST(HttpServerTlsTest, AKeepAliveTlsConnectionAnswersSeveralRequestsInTurn) {
  std::mutex mu;
  std::set<std::string> remotes;
  auto server = MustStart(
      [&](const HttpRequest& req) {
        std::lock_guard lock(mu);
        remotes.insert(req.remote_address);
        return Text(200, req.path);
      },
      TlsOptions());
  ASSERT_NE(server, nullptr);
  net::io_context ioc;
  auto ctx = ClientContext();
  TlsClient c(ioc, *ctx, server->port());
  ASSERT_TRUE(c.connected()) << c.error();
  for (int i = 0; i < 5; ++i) {
    auto resp = c.Request("/r/" + std::to_string(i));
    ASSERT_TRUE(resp.has_value()) << "request " << i;
    EXPECT_EQ(resp->body(), "/r/" + std::to_string(i));
    EXPECT_TRUE(resp->keep_alive());
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(remotes.size(), 1u);
}

TEST(HttpServerTlsTest, APlainHttpClientOnTheTlsPortGetsNoHttpResponse) {
  std::atomic<int> calls{0};
  auto server = MustStart(
      [&](const HttpRequest&) {
        ++calls;
        return Text(200, "never");
      },
      TlsOptions());
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.Send(Get("/")));
  auto got = c.ReadUntilClose();
  ASSERT_TRUE(got.has_value()) << "the connection was not closed";
  EXPECT_EQ(got->find("HTTP/"), std::string::npos) << *got;
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTlsTest, AHandshakeSlowerThanTheReadTimeoutIsClosed) {
  HttpServerOptions o = TlsOptions();
  o.read_timeout = milliseconds(200);
  auto server = MustStart(EchoPath(), o);
  ASSERT_NE(server, nullptr);
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ReadsEof());  // nothing sent: no ClientHello
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5'000));
}

TEST(HttpServerTlsTest, ATls11ClientIsRefused) {
  auto server = MustStart(EchoPath(), TlsOptions());
  ASSERT_NE(server, nullptr);
  net::io_context ioc;
  auto ctx = ClientContext(TLS1_1_VERSION);
  TlsClient c(ioc, *ctx, server->port());
  EXPECT_FALSE(c.connected());
}

TEST(HttpServerTlsTest, AClientThatDoesNotTrustTheCertificateFailsTheHandshake) {
  auto server = MustStart(EchoPath(), TlsOptions());
  ASSERT_NE(server, nullptr);
  net::io_context ioc;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->load_verify_file(TlsFiles::Get().other_cert);
  ctx->set_verify_mode(ssl::verify_peer);
  TlsClient c(ioc, *ctx, server->port());
  EXPECT_FALSE(c.connected());
}

TEST(HttpServerTlsTest, BadTlsConfigurationsFailWithInvalidArgument) {
  const TlsFiles& f = TlsFiles::Get();
  struct Case {
    std::string cert, key, expect;
  };
  for (const Case& c :
       {Case{f.cert, "", "without a key"}, Case{"", f.key, "without a certificate"},
        Case{f.cert, (f.dir / "missing.pem").string(), "missing.pem"},
        Case{(f.dir / "missing.pem").string(), f.key, "missing.pem"},
        Case{f.cert, f.other_key, "does not match"}, Case{f.other_cert, f.key, "does not match"},
        Case{f.garbage, f.key, "certificate"}, Case{f.cert, f.garbage, "private key"},
        Case{f.key, f.cert, ""}}) {
    HttpServerOptions o = TestOptions();
    o.tls_cert_file = c.cert;
    o.tls_key_file = c.key;
    auto r = HttpServer::Start(o, EchoPath(), TestErrorResponder());
    ASSERT_FALSE(r.ok()) << c.cert << " / " << c.key;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().ToString();
  }
}

TEST(HttpServerTlsTest, ShutdownLetsAnInFlightTlsRequestFinishThenRefusesNewConnections) {
  std::atomic<bool> entered{false};
  auto server = MustStart(
      [&](const HttpRequest& req) {
        if (req.path == "/slow") {
          entered = true;
          std::this_thread::sleep_for(milliseconds(300));
        }
        return Text(200, "finished");
      },
      TlsOptions());
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  net::io_context ioc;
  auto ctx = ClientContext();
  TlsClient idle(ioc, *ctx, port);
  ASSERT_TRUE(idle.connected()) << idle.error();
  ASSERT_TRUE(idle.Request("/first").has_value());

  std::optional<BeastResponse> busy_response;
  bool busy_eof = false;
  std::thread busy_thread([&] {
    net::io_context busy_ioc;
    TlsClient busy(busy_ioc, *ctx, port);
    if (!busy.connected()) return;
    busy_response = busy.Request("/slow");
    busy_eof = busy.ReadsEof();
  });
  for (int i = 0; i < 5000 && !entered; ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(entered.load());
  server->Shutdown();
  EXPECT_TRUE(idle.ReadsEof());
  busy_thread.join();
  ASSERT_TRUE(busy_response.has_value());
  EXPECT_EQ(busy_response->body(), "finished");
  EXPECT_FALSE(busy_response->keep_alive());
  EXPECT_TRUE(busy_eof);
  server->Wait();

  Client late(port);
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.connect_errno(), ECONNREFUSED);
}

TEST(HttpServerTlsTest, AThousandConcurrentTlsConnectionsAreAllServed) {
  constexpr int kConnections = 1000;
  std::atomic<int> calls{0};
  auto server = MustStart(
      [&](const HttpRequest& req) {
        ++calls;
        return Text(200, req.path);
      },
      TlsOptions());
  ASSERT_NE(server, nullptr);
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * kConnections + 100) {
    GTEST_SKIP() << "open-file limit " << rl.rlim_cur << " is too low even after raising";
  }
  net::io_context ioc;
  auto ctx = ClientContext();
  std::vector<std::unique_ptr<TlsClient>> clients;
  clients.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<TlsClient>(ioc, *ctx, server->port()));
    ASSERT_TRUE(clients.back()->connected())
        << "connection " << i << ": " << clients.back()->error();
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      auto resp = clients[i]->Request("/c/" + std::to_string(i));
      ASSERT_TRUE(resp.has_value()) << "round " << round << " connection " << i;
      EXPECT_EQ(resp->body(), "/c/" + std::to_string(i));
    }
  }
  EXPECT_EQ(calls.load(), 2 * kConnections);
}

TEST(SelfSignedTest, WritesACertificateAndAnOwnerOnlyKey) {
  const TlsFiles& f = TlsFiles::Get();
  struct stat st {};
  ASSERT_EQ(::stat(f.key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(f.cert);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
}

TEST(HttpServerTest, PercentDecodeDecodesEscapesAndKeepsInvalidOnesAsWritten) {
  EXPECT_EQ(PercentDecode("J%C3%B6rg", false), "J\xC3\xB6rg");
  EXPECT_EQ(PercentDecode("a+b%2Bc", true), "a b+c");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
  EXPECT_EQ(PercentDecode("%zz%41", false), "%zzA");
  EXPECT_EQ(PercentDecode("%2f%2F", false), "//");
  EXPECT_EQ(PercentDecode("", true), "");
}

TEST(HttpServerTest, SetTargetSplitsTheDecodedPathFromTheQueryInEveryTargetForm) {
  HttpRequest r = HttpRequest::Get("/fhir/Patient%2Fx?name=J%C3%B6rg+M&flag&&code=a%7Cb#frag");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/fhir/Patient%2Fx?name=J%C3%B6rg+M&flag&&code=a%7Cb#frag");
  EXPECT_EQ(r.path, "/fhir/Patient/x");
  const std::vector<std::pair<std::string, std::string>> query = {
      {"name", "J\xC3\xB6rg M"}, {"flag", ""}, {"code", "a|b"}};
  EXPECT_EQ(r.query, query);
  r.SetTarget("http://example.org:8080/fhir/metadata?_format=json");
  EXPECT_EQ(r.path, "/fhir/metadata");
  EXPECT_EQ(r.query, (std::vector<std::pair<std::string, std::string>>{{"_format", "json"}}));
  r.SetTarget("http://example.org");
  EXPECT_EQ(r.path, "/");
  EXPECT_TRUE(r.query.empty());
  r.SetTarget("/fhir/Patient#only-a-fragment?x=1");
  EXPECT_EQ(r.path, "/fhir/Patient");
  EXPECT_TRUE(r.query.empty());
}

}  // namespace
}  // namespace medhub::server
