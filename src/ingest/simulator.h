// The device simulator: N devices, each making readings at a fixed rate, sending them to
// medhub over HTTP (POST /api/devices/{id}/readings) or MQTT (medhub/devices/{id}/readings),
// with store-and-forward: every reading is written to the spool (spool.h) and synced before
// it is sent, and stays there until medhub's reply or ack lists it as stored, duplicate or
// rejected. Unacknowledged readings are resent with exponential backoff (100 ms doubling
// to 5 s per device), also after a restart of the simulator itself.
//
// Credentials: one line per device in a tab-separated file written by
// `medhub devices register`: device id, client id, client secret. Access tokens come from
// <auth_url>/auth/token (client_credentials) and are renewed when refused.
//
// Thread-safe: Run() blocks; one thread per device (HTTP) or one sender thread (MQTT).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace medhub::ingest {

struct DeviceCredential {
  std::string device_id;
  std::string client_id;
  std::string secret;
};

// Reads the credentials file. Errors: NotFound, InvalidArgument for a malformed line.
Result<std::vector<DeviceCredential>> ReadCredentials(const std::string& path);

struct SimulatorOptions {
  std::vector<DeviceCredential> devices;
  double rate = 1;         // readings per second per device
  double duration_s = 10;  // how long readings are made; then the rest is drained
  double drain_timeout_s = 120;
  std::string http_url;  // "http://127.0.0.1:8080": send over HTTP
  std::string mqtt;      // "127.0.0.1:1883": send over MQTT
  std::string auth_url;  // token endpoint base; defaults to http_url
  std::string spool_dir;
  size_t max_batch = 500;  // readings per request or message
};

struct SimulatorCounts {
  uint64_t sent = 0;                                  // distinct readings sent at least once
  uint64_t acknowledged = 0;                          // distinct readings acknowledged
  uint64_t retried = 0;                               // resends
  uint64_t in_flight = 0;                             // in the spool, not yet acknowledged
  uint64_t stored = 0, duplicates = 0, rejected = 0;  // as the acks said
  // From making a reading to its acknowledgement, over the readings made in this run and
  // acknowledged so far; 0 when there are none.
  double latency_p50_ms = 0, latency_p99_ms = 0;
};
std::string FormatCounts(const SimulatorCounts& c);

// Runs until the duration is over and every reading is acknowledged (or the drain timeout
// passes). `progress` is called about once a second. Returns the final counts; the caller
// decides whether in_flight > 0 is a failure. Errors: bad options, spool I/O errors.
Result<SimulatorCounts> RunSimulator(const SimulatorOptions& options,
                                     const std::function<void(const SimulatorCounts&)>& progress,
                                     const std::atomic<bool>* stop = nullptr);

}  // namespace medhub::ingest
