// The device API at /api/devices, independent of the transport (like FhirApi):
//
//   POST /api/devices/{id}/readings   Authorization: Bearer <token of device {id}>
//     body: a reading batch (ingest/readings.h, docs/formats/ingest.md)
//     200 {"device","stored":[seq...],"duplicates":[seq...],"rejected":[{index,seq,reason}]}
//         sent only after the stored readings are durable;
//     400 malformed batch, 401 no/invalid token, 403 a token of another device (or of a
//     device bound to another patient, or not a device), 404 unknown device, 409 a device
//     not bound to a patient, 410 a deleted device, 413 more than 10000 readings,
//     503 the store could not commit (nothing of the batch was stored: retry it).
//
// Thread-safe: requests may be handled concurrently.
#pragma once

#include <functional>

#include "ingest/device_ingestor.h"
#include "security/token.h"
#include "server/http_server.h"

namespace medhub::server {

class DeviceApi {
 public:
  using Authenticator = std::function<Result<security::Principal>(const HttpRequest&)>;
  // `ingestor` is not owned and must outlive the API. `clock` gives micros since the epoch.
  DeviceApi(ingest::DeviceIngestor* ingestor, Authenticator authenticate,
            std::function<int64_t()> clock);

  // Handles a request whose path starts with "/api/devices", authenticating it.
  HttpResponse Handle(const HttpRequest& request);
  // The same for a request its caller has authenticated already (`who`, as the
  // Authenticator would answer), so that a token is verified once per request.
  HttpResponse Handle(const HttpRequest& request, const Result<security::Principal>& who);

 private:
  ingest::DeviceIngestor* ingestor_;
  Authenticator authenticate_;
  std::function<int64_t()> clock_;
};

}  // namespace medhub::server
