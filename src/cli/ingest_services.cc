#include "cli/ingest_services.h"

#include <cstdlib>

#include "core/time.h"
#include "ingest/device_ingestor.h"
#include "ingest/hl7_ingestor.h"
#include "ingest/mqtt_ingest.h"
#include "server/device_api.h"
#include "server/http_util.h"
#include "server/mllp_server.h"

namespace medhub::cli {

namespace {

// The HTTP status an HL7 v2 answer stands for in the audit trail: stored, refused as
// malformed (AR), or not stored because of its content or the store (AE).
int AuditStatus(const ingest::Hl7Outcome& out) {
  if (out.code == "AA") return 200;
  if (out.code == "AR") return 400;
  return out.error == 207 ? 503 : 422;
}

// Stores one message and records its AuditEvent: who sent it (MLLP has no login: the
// peer address), the message type and control id, what it wrote, and the answer.
std::string HandleHl7(ingest::Hl7Ingestor* hl7, security::AuditLog* audit, std::string_view m,
                      std::string_view peer) {
  const int64_t now = NowMicros();
  if (audit == nullptr) return hl7->Process(m, now).ack;
  return hl7
      ->Process(m, now,
                [&](const ingest::Hl7Outcome& out) {
                  security::AuditRecord rec = security::AuditRecordFor(
                      nullptr, now, peer, "hl7v2-message", "MLLP",
                      out.message_type + " " + out.control_id + " from " + out.sending_facility,
                      AuditStatus(out), out.code + " " + out.reason);
                  rec.hl7_message_type = out.message_type;
                  rec.patients = out.patients;
                  rec.resources = out.resources;
                  return audit->Record(rec, /*wait=*/out.code == "AA");
                })
      .ack;
}

// Records each MQTT message like an HTTP device batch (interaction device-readings): the
// device's token subject, the topic, the counts, the patient; stored readings wait for
// their event to be durable. None without an audit log.
ingest::MqttIngest::Recorder MqttRecorder(security::AuditLog* audit) {
  if (audit == nullptr) return {};
  return [audit](const ingest::MqttMessageOutcome& o) {
    const std::string target = std::string(o.topic) + " stored " + std::to_string(o.stored) +
                               " duplicates " + std::to_string(o.duplicates) + " rejected " +
                               std::to_string(o.rejected);
    security::AuditRecord rec = security::AuditRecordFor(
        o.who ? &*o.who : nullptr, NowMicros(), "", "device-readings", "MQTT", target,
        o.status.ok() ? 200 : server::HttpStatusFor(o.status), o.status.message());
    if (!o.patient.empty()) rec.patients = {o.patient};
    return audit->Record(rec, /*wait=*/o.stored > 0);
  };
}

}  // namespace

struct IngestServices::Impl {
  Impl(store::Store* store, const IngestConfig& config)
      : ingestor(store), hl7(store, config.on_relations) {}
  ingest::DeviceIngestor ingestor;
  ingest::Hl7Ingestor hl7;
  std::unique_ptr<server::DeviceApi> devices;
  std::unique_ptr<ingest::MqttIngest> mqtt;
  std::unique_ptr<server::MllpServer> mllp;  // destroyed first: stops its handlers
};

IngestServices::IngestServices(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngestServices::~IngestServices() = default;

Result<std::unique_ptr<IngestServices>> IngestServices::Start(store::Store* store,
                                                              server::AuthApi* auth,
                                                              const IngestConfig& config) {
  auto impl = std::make_unique<Impl>(store, config);
  impl->devices = std::make_unique<server::DeviceApi>(
      &impl->ingestor, [auth](const server::HttpRequest& r) { return auth->Authenticate(r); },
      NowMicros);
  if (!config.mqtt.empty()) {
    const size_t colon = config.mqtt.rfind(':');
    const int port = colon == std::string::npos ? 0 : std::atoi(config.mqtt.c_str() + colon + 1);
    if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535)
      return Status::InvalidArgument("--mqtt must be HOST:PORT");
    ingest::MqttClientOptions options;
    options.host = config.mqtt.substr(0, colon);
    options.port = port;
    ASSIGN_OR_RETURN(impl->mqtt, ingest::MqttIngest::Start(
                                     options, &impl->ingestor,
                                     [auth](std::string_view token) {
                                       return auth->tokens().Verify(token, NowMicros());
                                     },
                                     NowMicros, MqttRecorder(config.audit)));
  }
  if (config.mllp_port >= 0) {
    server::MllpServerOptions options;
    options.address = config.address;
    options.port = static_cast<uint16_t>(config.mllp_port);
    ingest::Hl7Ingestor* hl7 = &impl->hl7;
    security::AuditLog* audit = config.audit;
    ASSIGN_OR_RETURN(impl->mllp, server::MllpServer::Start(
                                     options, [hl7, audit](std::string_view m,
                                                           std::string_view peer) {
                                       return HandleHl7(hl7, audit, m, peer);
                                     }));
  }
  return std::unique_ptr<IngestServices>(new IngestServices(std::move(impl)));
}

server::HttpResponse IngestServices::HandleDevices(const server::HttpRequest& request) {
  return impl_->devices->Handle(request);
}

int IngestServices::mllp_port() const { return impl_->mllp ? impl_->mllp->port() : 0; }

}  // namespace medhub::cli
