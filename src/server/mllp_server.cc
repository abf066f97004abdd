#include "server/mllp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

namespace medhub::server {
namespace {

constexpr char kStart = 0x0B;
constexpr char kEnd1 = 0x1C;
constexpr char kEnd2 = 0x0D;

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

class PosixMllpServer final : public MllpServer {
 public:
  PosixMllpServer(const MllpServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}
  ~PosixMllpServer() override { Stop(); }

  Status Listen() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return Status::Unavailable(std::string("mllp socket: ") + strerror(errno));
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1)
      return Status::InvalidArgument("mllp: '" + options_.address + "' is not an IPv4 address");
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 64) != 0)
      return Status::Unavailable("mllp: cannot listen on " + options_.address + ":" +
                                 std::to_string(options_.port) + ": " + strerror(errno));
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    std::list<Connection> conns;
    {
      std::lock_guard lock(mu_);
      for (Connection& c : connections_) shutdown(c.fd, SHUT_RDWR);
      conns.splice(conns.end(), connections_);
    }
    for (Connection& c : conns) {
      if (c.thread.joinable()) c.thread.join();
      close(c.fd);
    }
  }

 private:
  struct Connection {
    int fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void AcceptLoop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      sockaddr_in peer{};
      socklen_t peer_len = sizeof peer;
      const int fd =
          accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      Reap();
      if (stopping_ || connections_.size() >= options_.max_connections) {
        close(fd);
        continue;
      }
      Connection& c = connections_.emplace_back();
      c.fd = fd;
      c.thread = std::thread([this, &c, address = PeerAddress(peer)] {
        Serve(c.fd, address);
        c.done = true;
      });
    }
  }

  // Joins finished connection threads. Caller holds mu_.
  void Reap() {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (!it->done) {
        ++it;
        continue;
      }
      it->thread.join();
      close(it->fd);
      it = connections_.erase(it);
    }
  }

  static std::string PeerAddress(const sockaddr_in& peer) {
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(peer.sin_port));
  }

  void Serve(int fd, const std::string& peer) {
    std::string buffer;
    char chunk[65536];
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(options_.idle_timeout.count()));
      if (ready <= 0) return;  // idle or error
      const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
      if (!HandleFrames(fd, peer, &buffer)) return;
    }
  }

  // Handles every complete frame in *buffer; false when the connection must close.
  bool HandleFrames(int fd, const std::string& peer, std::string* buffer) {
    while (true) {
      const size_t start = buffer->find(kStart);
      if (start == std::string::npos) {
        buffer->clear();  // noise between frames
        return true;
      }
      const size_t end = buffer->find(std::string{kEnd1, kEnd2}, start + 1);
      if (end == std::string::npos) {
        if (buffer->size() - start > options_.max_message_bytes) return false;
        if (start > 0) buffer->erase(0, start);
        return true;
      }
      if (end - start - 1 > options_.max_message_bytes) return false;
      const std::string reply =
          handler_(std::string_view(*buffer).substr(start + 1, end - start - 1), peer);
      if (!SendAll(fd, MllpFrame(reply))) return false;
      buffer->erase(0, end + 2);
    }
  }

  MllpServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<Connection> connections_;  // GUARDED_BY(mu_)
};

}  // namespace

std::string MllpFrame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out.push_back(kStart);
  out.append(message);
  out.push_back(kEnd1);
  out.push_back(kEnd2);
  return out;
}

Result<std::unique_ptr<MllpServer>> MllpServer::Start(const MllpServerOptions& options,
                                                      Handler handler) {
  auto server = std::make_unique<PosixMllpServer>(options, std::move(handler));
  RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<MllpServer>(std::move(server));
}

}  // namespace medhub::server
