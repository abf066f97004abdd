// A real Mosquitto broker for tests, started with deploy/mosquitto/start.sh on a free
// loopback port in a temporary directory, and killed (and its directory removed) when the
// object goes out of scope, even when the test fails.
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace medhub::testing {

class MosquittoBroker {
 public:
  // `script` is deploy/mosquitto/start.sh. ok() is false when the broker did not come up.
  explicit MosquittoBroker(const std::string& script);
  ~MosquittoBroker();
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool CanConnect(int port);

}  // namespace medhub::testing
