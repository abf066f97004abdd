// medhub's MQTT ingest: subscribes (QoS 1) to medhub/devices/+/readings on a broker and
// stores each message's readings through the DeviceIngestor, then publishes the reply on
// medhub/devices/<id>/acks (QoS 1) — only after the readings are durable.
//
// Why an application ack: libmosquitto 2.0 PUBACKs a QoS 1 message before handing it to
// the application (there is no manual-ack API), so the broker forgets a message that
// medhub may not have stored yet (a crash between PUBACK and commit). The device therefore
// keeps every reading until it sees it in an ack's "stored" or "duplicates" and resends it
// otherwise; (device, seq) dedupe makes the resend harmless. The session is persistent
// (clean_session = false, fixed client id "medhub-ingest" by default) so that messages
// published while medhub is down are queued by the broker and delivered on reconnect.
//
// Authentication: every payload carries the device's OAuth access token ("token", the same
// token as for HTTP); it must verify and name this very device, or the message stores
// nothing and the ack carries the error. Payload and ack formats: docs/formats/ingest.md.
//
// Threading: the MQTT network thread only queues messages (at most kMaxQueuedMessages; then
// it waits, which back-pressures the broker); kWorkers worker threads store them and publish
// the acks, so a slow commit never stalls keep-alives or SUBACKs and two cores can commit at
// once. Two messages of one device may be stored in either order (each reading carries its
// own seq and time; the ingestor serializes a device's commits). Messages still queued when
// the ingest stops were PUBACKed but not acknowledged: the devices resend them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ingest/device_ingestor.h"
#include "ingest/mqtt_client.h"
#include "security/token.h"

namespace medhub::ingest {

inline constexpr char kReadingsTopicFilter[] = "medhub/devices/+/readings";
inline constexpr size_t kMaxQueuedMessages = 1000;
inline constexpr size_t kWorkers = 2;
std::string ReadingsTopic(std::string_view device_id);
std::string AcksTopic(std::string_view device_id);

struct MqttIngestStats {
  uint64_t messages = 0;
  uint64_t stored = 0;      // readings
  uint64_t duplicates = 0;  // readings
  uint64_t rejected = 0;    // readings
  uint64_t errors = 0;      // messages refused as a whole
};

// What one message did, for the audit trail.
struct MqttMessageOutcome {
  std::string_view topic;
  std::string_view device;
  std::optional<security::Principal> who;  // the payload token's principal, once verified
  Status status;                           // OK, or why the message was refused whole
  std::string patient;                     // the device's patient, once known
  size_t stored = 0, duplicates = 0, rejected = 0;  // readings
};

class MqttIngest {
 public:
  using Verifier = std::function<Result<security::Principal>(std::string_view token)>;
  // Called with every message's outcome before its ack is published; if it fails for a
  // message that stored readings, the ack is an error instead (Unavailable), so the device
  // resends and the readings are reported as duplicates then. Must be thread-safe.
  using Recorder = std::function<Status(const MqttMessageOutcome&)>;

  // Connects, subscribes and starts handling messages. Neither pointer is owned; `record`
  // is optional. Errors: those of MqttClient::Start and Subscribe.
  static Result<std::unique_ptr<MqttIngest>> Start(MqttClientOptions options,
                                                   DeviceIngestor* ingestor, Verifier verify,
                                                   std::function<int64_t()> clock,
                                                   Recorder record = {});
  ~MqttIngest();  // stops the worker (after its current message), then disconnects

  // Handles one message as if it had arrived on `topic`; returns the ack payload (also
  // published). Exposed for tests.
  std::string HandleMessage(std::string_view topic, std::string_view payload);
  MqttIngestStats stats() const;

 private:
  MqttIngest(DeviceIngestor* ingestor, Verifier verify, std::function<int64_t()> clock,
             Recorder record);
  // Stores the message's readings; fills `outcome` with what it learned on the way.
  Result<std::string> Process(std::string_view device, std::string_view payload,
                              MqttMessageOutcome* outcome);
  void Enqueue(std::string_view topic, std::string_view payload);
  void Work();

  DeviceIngestor* ingestor_;
  Verifier verify_;
  std::function<int64_t()> clock_;
  Recorder record_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                                  // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
  std::unique_ptr<MqttClient> client_;
  std::atomic<uint64_t> messages_{0}, stored_{0}, duplicates_{0}, rejected_{0}, errors_{0};
};

}  // namespace medhub::ingest
