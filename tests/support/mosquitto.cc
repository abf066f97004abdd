#include "support/mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

namespace medhub::testing {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool CanConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

MosquittoBroker::MosquittoBroker(const std::string& script) {
  std::random_device rd;
  dir_ = (std::filesystem::temp_directory_path() / ("medhub-mosquitto-" + std::to_string(rd())))
             .string();
  for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) {
    const int port = FreeLoopbackPort();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/bin/sh", script, dir_, std::to_string(port)});
    for (int i = 0; i < 100; ++i) {
      if (CanConnect(port)) {
        port_ = port;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) process_.reset();
  }
}

MosquittoBroker::~MosquittoBroker() {
  process_.reset();  // SIGKILL
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace medhub::testing
