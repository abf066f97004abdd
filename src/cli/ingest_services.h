// What `medhub serve` runs for data in: the device API (/api/devices), the MQTT ingest
// (--mqtt HOST:PORT) and the HL7 v2 MLLP listener (--mllp-port N).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "security/audit.h"
#include "server/auth_api.h"
#include "server/http_server.h"
#include "store/store.h"

namespace medhub::cli {

struct IngestConfig {
  std::string mqtt;    // "HOST:PORT" or "" for none
  int mllp_port = -1;  // -1: none; 0: a free port
  std::string address = "127.0.0.1";
  // Told the patients whose care relations an HL7 message changed (its Encounters), so
  // the access policy's relation cache can drop them. Optional; must be thread-safe.
  std::function<void(const std::vector<std::string>& patients)> on_relations;
  // Where every HL7 v2 message is recorded (an AuditEvent per message, accepted or
  // refused; a stored one is acknowledged only once its event is durable). Optional.
  security::AuditLog* audit = nullptr;
};

class IngestServices {
 public:
  // Starts what `config` asks for. Neither pointer is owned; both outlive the services.
  // Errors: a malformed --mqtt, a broker that cannot be reached, an MLLP port in use.
  static Result<std::unique_ptr<IngestServices>> Start(store::Store* store, server::AuthApi* auth,
                                                       const IngestConfig& config);
  ~IngestServices();

  // Handles /api/devices/... requests; `who` is the request's bearer token as the AuthApi
  // authenticated it (serve's audited route has, so the token is verified once).
  server::HttpResponse HandleDevices(const server::HttpRequest& request,
                                     const Result<security::Principal>& who);
  // The bound MLLP port, or 0 when there is no listener.
  int mllp_port() const;

  struct Impl;

 private:
  explicit IngestServices(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medhub::cli
