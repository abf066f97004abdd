// A small MQTT 3.1.1 client over libmosquitto, shared by medhub's MQTT ingest and the
// device simulator. No mosquitto type appears here.
//
// Contract:
// - Start() connects (blocking until the first CONNACK or the timeout) and runs the network
//   loop on its own thread; after a lost connection it reconnects with backoff (1 s to
//   10 s) and subscribes again to every topic given to Subscribe().
// - The message handler runs on the network thread, one message at a time, in arrival
//   order. libmosquitto sends the PUBACK of a QoS 1 message *before* calling the handler
//   (it has no manual-ack API in 2.0), so a PUBACK means "the client received it", not
//   "it was handled": medhub acknowledges readings on an application topic instead
//   (docs/formats/ingest.md, "MQTT").
// - With clean_session = false and a fixed client id, the broker keeps the subscriptions
//   and queues QoS 1 messages while the client is away.
// Thread-safe: Publish() and Subscribe() may be called from any thread, including the
// handler.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace medhub::ingest {

struct MqttClientOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id;  // "" lets the library pick one (then clean_session must be true)
  bool clean_session = true;
  int keepalive_seconds = 30;
  std::string username;  // optional broker credentials
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
};

class MqttClient {
 public:
  using Handler = std::function<void(std::string_view topic, std::string_view payload)>;
  // Errors: Unavailable when the broker cannot be reached in time, InvalidArgument for
  // bad options.
  static Result<std::unique_ptr<MqttClient>> Start(const MqttClientOptions& options,
                                                   Handler on_message);
  virtual ~MqttClient() = default;  // disconnects and stops the network thread

  // QoS 0, 1 or 2. Errors: Unavailable while disconnected (the caller retries).
  virtual Status Subscribe(std::string_view topic_filter, int qos) = 0;
  virtual Status Publish(std::string_view topic, std::string_view payload, int qos) = 0;
  virtual bool connected() const = 0;
};

}  // namespace medhub::ingest
