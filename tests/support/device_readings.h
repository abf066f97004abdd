// Device readings for the end-to-end tests: a small batch and the POST that sends it as the
// device itself (docs/formats/ingest.md). Header-only.
#pragma once

#include <string>

#include "support/http_client.h"
#include "support/tokens.h"

namespace medhub::testing {

// Three readings of one device, seqs 1-3: a heart rate, a blood pressure, an SpO2.
inline constexpr char kThreeReadings[] =
    R"({"readings":[{"seq":1,"kind":"heart-rate","value":72,"unit":"/min",)"
    R"("time":"2026-11-29T10:00:00Z"},{"seq":2,"kind":"blood-pressure","values":[128,84],)"
    R"("unit":"mm[Hg]","time":"2026-11-29T10:00:00Z"},)"
    R"({"seq":3,"kind":"spo2","value":97,"unit":"%","time":"2026-11-29T10:01:00Z"}]})";

// POSTs `batch` to /api/devices/DEVICE/readings with a token of the device's own client
// (client id = DEVICE, its `secret`).
inline ClientResponse PostReadings(HttpClient& c, const std::string& device,
                                   const std::string& secret, const std::string& batch) {
  return c.Send("POST", "/api/devices/" + device + "/readings", batch,
                {{"Authorization", "Bearer " + ClientToken(c, device, secret)},
                 {"Content-Type", "application/json"}});
}

}  // namespace medhub::testing
