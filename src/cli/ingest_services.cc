#include "cli/ingest_services.h"

#include <cstdlib>

#include "core/time.h"
#include "ingest/device_ingestor.h"
#include "ingest/hl7_ingestor.h"
#include "ingest/mqtt_ingest.h"
#include "server/audited.h"
#include "server/device_api.h"
#include "server/mllp_server.h"

namespace medhub::cli {

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
                                     NowMicros, server::MqttAuditRecorder(config.audit)));
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
                                       return server::AuditedHl7(hl7, audit, m, peer);
                                     }));
  }
  return std::unique_ptr<IngestServices>(new IngestServices(std::move(impl)));
}

server::HttpResponse IngestServices::HandleDevices(const server::HttpRequest& request,
                                                   const Result<security::Principal>& who) {
  return impl_->devices->Handle(request, who);
}

int IngestServices::mllp_port() const { return impl_->mllp ? impl_->mllp->port() : 0; }

}  // namespace medhub::cli
