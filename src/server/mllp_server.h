// An MLLP (Minimal Lower Layer Protocol, HL7 v2 transport) listener on plain POSIX sockets.
//
// Framing: each message is 0x0B <message> 0x1C 0x0D; bytes before a 0x0B are ignored. The
// handler's reply is sent back in the same framing, in order, on the same connection.
//
// Contract:
// - One thread per connection, at most max_connections at once (more are closed at once).
// - A message over max_message_bytes closes the connection (nothing is handled); so does a
//   connection idle longer than idle_timeout.
// - Stop() (also the destructor) closes the listener and every connection and joins all
//   threads; a handler call in progress finishes first.
// Thread-safe: the handler runs on connection threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub::server {

struct MllpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port
  size_t max_message_bytes = 4u << 20;
  size_t max_connections = 64;
  std::chrono::milliseconds idle_timeout{300'000};
};

class MllpServer {
 public:
  // `peer` is the sender's "ip:port".
  using Handler = std::function<std::string(std::string_view message, std::string_view peer)>;
  // Errors: Unavailable when the address cannot be bound, InvalidArgument for a bad address.
  static Result<std::unique_ptr<MllpServer>> Start(const MllpServerOptions& options,
                                                   Handler handler);
  virtual ~MllpServer() = default;
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
};

// Frames `message` for MLLP.
std::string MllpFrame(std::string_view message);

}  // namespace medhub::server
