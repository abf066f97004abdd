#include "server/mllp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace medhub::server {
namespace {

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view data) {
    ASSERT_EQ(send(fd_, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  }
  // The next framed reply without its framing; "" on EOF or after 10 s.
  std::string Receive() {
    while (true) {
      const size_t end = buffer_.find("\x1c\r");
      if (end != std::string::npos) {
        std::string msg = buffer_.substr(1, end - 1);
        buffer_.erase(0, end + 2);
        return msg;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10000) <= 0) return "";
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::unique_ptr<MllpServer> StartEcho(size_t max_bytes = 1 << 20) {
  MllpServerOptions o;
  o.max_message_bytes = max_bytes;
  return MllpServer::Start(o, [](std::string_view m, std::string_view peer) {
           return "ACK:" + std::string(m) + (peer.starts_with("127.0.0.1:") ? "" : " bad peer");
         }).value();
}

TEST(MllpServer, AnswersEachFramedMessageInOrderOnTheSameConnection) {
  auto server = StartEcho();
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  c.Send(MllpFrame("one") + MllpFrame("two"));
  EXPECT_EQ(c.Receive(), "ACK:one");
  EXPECT_EQ(c.Receive(), "ACK:two");
}

TEST(MllpServer, AFrameSplitAcrossWritesAndNoiseBetweenFramesAreHandled) {
  auto server = StartEcho();
  Client c(server->port());
  const std::string frame = MllpFrame("MSH|^~\\&|split");
  c.Send("noise" + frame.substr(0, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.Send(frame.substr(5));
  EXPECT_EQ(c.Receive(), "ACK:MSH|^~\\&|split");
}

TEST(MllpServer, AnOversizedMessageClosesTheConnectionWithoutHandlingIt) {
  auto server = StartEcho(16);
  Client c(server->port());
  c.Send(MllpFrame(std::string(100, 'x')));
  EXPECT_EQ(c.Receive(), "");
  Client d(server->port());
  d.Send(MllpFrame("ok"));
  EXPECT_EQ(d.Receive(), "ACK:ok");
}

TEST(MllpServer, StopClosesOpenConnections) {
  auto server = StartEcho();
  Client c(server->port());
  c.Send(MllpFrame("a"));
  EXPECT_EQ(c.Receive(), "ACK:a");
  server->Stop();
  EXPECT_EQ(c.Receive(), "");
}

}  // namespace
}  // namespace medhub::server
