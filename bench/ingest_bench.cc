// ingest_bench: data-in throughput, each figure with a peer measured in the same run
// (docs/benchmarks.md).
//
//   ingest_bench [--readings N] [--batch B] [--devices D] [--clients C] [--work DIR]
//                [--mosquitto SCRIPT] [--hl7-rounds R]
//
//  1. HTTP device API: C client threads POST batches of B readings (medhub::HttpClient,
//     keep-alive, loopback) to POST /api/devices/{id}/readings of an in-process HttpServer
//     + DeviceApi over a durable (fsync) RocksDB store (readings in the store's device
//     time-series key space, docs/formats/store.md), each batch audited as `serve` does
//     (server/audited.h: a durable AuditEvent before the reply); N readings in all. Peer: the same
//     readings as the same Observations in FHIR transaction Bundles of B entries
//     (POST /fhir), the generic way in.
//  1b. Ledger follow: after (1) and after its peer, a LedgerWriter commits the store's
//     change feed to a fresh embedded ledger on one thread (what `serve` does after the
//     acknowledgements): one RecordCommitted entry per reading. Ratio device readings /
//     Observations, per CPU-second.
//  2. MQTT: C publishers, one device each at a time, publish batches of B readings (QoS 1)
//     to a real Mosquitto broker (started with SCRIPT on a free port) and wait for medhub's
//     application ack before the next batch (MqttIngest in process, same store type, each
//     message audited as `serve --mqtt` does).
//     Ratio against (1).
//  3. HL7 v2 parse + map of every accepted message of the shared corpus, R rounds. Peer:
//     a naive split of the same bytes on segment and field separators only.
// Exits non-zero when any request fails or a count does not match.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/http_client.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "ingest/device_ingestor.h"
#include "ingest/er7.h"
#include "ingest/hl7_mapper.h"
#include "ingest/mqtt_ingest.h"
#include "ledger/ledger.h"
#include "ledger/ledger_writer.h"
#include "server/audited.h"
#include "server/auth_api.h"
#include "server/device_api.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "support/mosquitto.h"

namespace medhub::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  size_t readings = 200000;
  size_t batch = 1000;
  size_t devices = 8;
  size_t clients = 4;
  size_t hl7_rounds = 50;
  std::string work = (fs::temp_directory_path() / "medhub-ingest-bench").string();
  std::string mosquitto = MEDHUB_MOSQUITTO_SCRIPT;
};

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "ingest_bench: " << what << "\n";
  std::exit(1);
}

// CPU seconds (user + system) this process has used so far, over all its threads: the
// server and the clients both run here, so readings per CPU-second bound what 2 idle cores
// could do at best, whatever else the machine is running.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Rate {
  double per_second = 0;
  double per_cpu_second = 0;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Reading(uint64_t seq, const std::string& time) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"kind":"heart-rate","value":)" +
         std::to_string(50 + seq % 80) + R"(,"unit":"/min","time":")" + time + "\"}";
}

std::string Batch(uint64_t first, size_t n, const std::string& time, const std::string& token) {
  std::string body = "{";
  if (!token.empty()) body += "\"token\":\"" + token + "\",";
  body += "\"readings\":[";
  for (size_t i = 0; i < n; ++i) body += (i ? "," : "") + Reading(first + i, time);
  return body + "]}";
}

// A store with a Patient and `devices` Devices, the auth service and device tokens.
struct Fixture {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<server::AuthApi> auth;
  std::unique_ptr<ingest::DeviceIngestor> ingestor;
  std::vector<std::string> tokens;  // device i = "dev-i"

  Fixture(const std::string& dir, size_t devices) {
    fs::remove_all(dir);
    auto s = store::OpenRocksStore({dir});
    if (!s.ok()) Die(s.status().ToString());
    store = std::move(s).value();
    std::vector<store::WriteOp> ops;
    auto put = [&](std::string json) {
      store::WriteOp op;
      op.resource = json::Parse(json).value();
      op.type = std::string(op.resource.get_string("resourceType"));
      op.id = std::string(op.resource.get_string("id"));
      ops.push_back(std::move(op));
    };
    put(R"({"resourceType":"Patient","id":"p1"})");
    for (size_t i = 0; i < devices; ++i)
      put(R"({"resourceType":"Device","id":"dev-)" + std::to_string(i) +
          R"(","patient":{"reference":"Patient/p1"}})");
    if (!store->Commit(std::move(ops)).ok()) Die("setup commit");
    server::AuthApiOptions ao;
    ao.data_dir = dir;
    auth = server::AuthApi::Open(store.get(), ao).value();
    ingestor = std::make_unique<ingest::DeviceIngestor>(store.get());
    for (size_t i = 0; i < devices; ++i) {
      security::Grant g;
      g.subject = g.client_id = g.device = "dev-" + std::to_string(i);
      g.role = security::Role::kDevice;
      g.patient = "p1";
      g.scopes = security::RoleScopes(security::Role::kDevice);
      tokens.push_back(auth->tokens().Issue(g, false, NowMicros()).value().access_token);
    }
  }
};

size_t CountObservations(store::Store* store) {
  fhir::SearchQuery q;
  q.type = "Observation";
  return store->Search(q).value().size();
}

// Commits everything the store's change feed holds to a fresh embedded ledger, on this
// thread: what `serve`'s LedgerWriter does after the acknowledgements. `n` readings.
Rate LedgerFollow(store::Store* store, const std::string& dir, size_t n) {
  ledger::LedgerOptions lo;
  lo.dir = dir;
  auto ledger = ledger::Ledger::Open(lo);
  if (!ledger.ok()) Die(ledger.status().ToString());
  ledger::LedgerWriter writer(store, ledger->get());
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  if (Status s = writer.CatchUp(); !s.ok()) Die("ledger: " + s.ToString());
  return Rate{n / Seconds(start), n / (CpuSeconds() - cpu0)};
}

// Runs `clients` threads; thread c sends batches for devices c, c+clients, ... through
// `send(device, first_seq, n)` until `total` readings are sent. Returns seconds.
double Drive(const Options& o, const std::function<void(size_t, uint64_t, size_t)>& send) {
  const size_t per_device = o.readings / o.devices;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (size_t c = 0; c < o.clients; ++c)
    threads.emplace_back([&, c] {
      for (size_t d = c; d < o.devices; d += o.clients)
        for (uint64_t seq = 0; seq < per_device; seq += o.batch)
          send(d, seq, std::min<size_t>(o.batch, per_device - seq));
    });
  for (auto& t : threads) t.join();
  return Seconds(start);
}

// An HttpServer on 127.0.0.1 (free port, 64 MiB bodies) serving `handler`, and its base URL.
struct LoopbackServer {
  std::unique_ptr<server::HttpServer> server;
  std::string base;
};

LoopbackServer StartLoopbackServer(server::HttpHandler handler) {
  server::HttpServerOptions so;
  so.port = 0;
  so.max_body_bytes = 64u << 20;
  auto srv = server::HttpServer::Start(so, std::move(handler), [](int s, std::string_view m) {
    return server::HttpResponse{s, {}, std::string(m)};
  });
  if (!srv.ok()) Die(srv.status().ToString());
  LoopbackServer out{std::move(srv).value(), ""};
  out.base = "http://127.0.0.1:" + std::to_string(out.server->port());
  return out;
}

Rate HttpDevices(const Options& o, const std::string& time, Rate* ledger) {
  Fixture f(o.work + "/http-devices", o.devices);
  server::DeviceApi api(
      f.ingestor.get(), [&](const server::HttpRequest& r) { return f.auth->Authenticate(r); },
      NowMicros);
  security::AuditLog audit(f.store.get());  // as `serve`: an AuditEvent per batch, durable
  const LoopbackServer srv = StartLoopbackServer([&](const server::HttpRequest& r) {
    return server::Audited(r, *f.auth, &audit, "device-readings",
                           [&](const server::Who&) { return api.Handle(r); });
  });
  const std::string& base = srv.base;
  const double cpu0 = CpuSeconds();
  const double secs = Drive(o, [&](size_t d, uint64_t seq, size_t n) {
    thread_local HttpClient client;
    HttpClientRequest req;
    req.method = "POST";
    req.url = base + "/api/devices/dev-" + std::to_string(d) + "/readings";
    req.headers = {{"Content-Type", "application/json"},
                   {"Authorization", "Bearer " + f.tokens[d]}};
    req.body = Batch(seq, n, time, "");
    auto r = client.Send(req);
    if (!r.ok() || r->status != 200)
      Die("device POST failed: " + (r.ok() ? r->body : r.status().ToString()));
  });
  const size_t stored = CountObservations(f.store.get());
  if (stored != o.readings / o.devices * o.devices) Die("HTTP: stored " + std::to_string(stored));
  const Rate rate{stored / secs, stored / (CpuSeconds() - cpu0)};
  *ledger = LedgerFollow(f.store.get(), o.work + "/http-devices-ledger", stored);
  return rate;
}

Rate HttpFhirBundles(const Options& o, const std::string& time, Rate* ledger) {
  Fixture f(o.work + "/http-fhir", o.devices);
  server::FhirApi api(f.store.get(), server::FhirApiOptions{});
  const LoopbackServer srv =
      StartLoopbackServer([&](const server::HttpRequest& r) { return api.Handle(r); });
  const std::string& base = srv.base;
  const double cpu0 = CpuSeconds();
  const double secs = Drive(o, [&](size_t d, uint64_t seq, size_t n) {
    thread_local HttpClient client;
    const std::string device = "dev-" + std::to_string(d);
    std::string body = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
    for (size_t i = 0; i < n; ++i) {
      auto reading = ingest::ParseReading(json::Parse(Reading(seq + i, time)).value(), NowMicros());
      const json::Value obs = ingest::ObservationFor(*reading, device, "p1");
      body += (i ? "," : "") + std::string(R"({"resource":)") + json::Serialize(obs) +
              R"(,"request":{"method":"PUT","url":"Observation/)" +
              std::string(obs.get_string("id")) + "\"}}";
    }
    body += "]}";
    HttpClientRequest req;
    req.method = "POST";
    req.url = base + "/fhir";
    req.headers = {{"Content-Type", "application/fhir+json"}};
    req.body = std::move(body);
    auto r = client.Send(req);
    if (!r.ok() || r->status != 200)
      Die("FHIR POST failed: " + (r.ok() ? r->body.substr(0, 300) : r.status().ToString()));
  });
  const size_t stored = CountObservations(f.store.get());
  if (stored != o.readings / o.devices * o.devices) Die("FHIR: stored " + std::to_string(stored));
  const Rate rate{stored / secs, stored / (CpuSeconds() - cpu0)};
  *ledger = LedgerFollow(f.store.get(), o.work + "/http-fhir-ledger", stored);
  return rate;
}

Rate Mqtt(const Options& o, const std::string& time) {
  testing::MosquittoBroker broker(o.mosquitto);
  if (!broker.ok()) Die("mosquitto did not start");
  Fixture f(o.work + "/mqtt", o.devices);
  ingest::MqttClientOptions mo;
  mo.port = broker.port();
  security::AuditLog audit(f.store.get());  // as `serve --mqtt`: an AuditEvent per message
  auto ingest = ingest::MqttIngest::Start(
      mo, f.ingestor.get(),
      [&](std::string_view t) { return f.auth->tokens().Verify(t, NowMicros()); }, NowMicros,
      server::MqttAuditRecorder(&audit));
  if (!ingest.ok()) Die(ingest.status().ToString());
  // One publisher client; an ack per batch wakes the thread waiting for that device.
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, size_t> acks;  // device -> acks received
  auto pub = ingest::MqttClient::Start(mo, [&](std::string_view topic, std::string_view body) {
    if (body.find("\"error\"") != std::string_view::npos)
      Die("MQTT ack error: " + std::string(body));
    std::lock_guard l(mu);
    ++acks[std::string(topic)];
    cv.notify_all();
  });
  if (!pub.ok()) Die(pub.status().ToString());
  for (size_t d = 0; d < o.devices; ++d)
    if (!(*pub)->Subscribe(ingest::AcksTopic("dev-" + std::to_string(d)), 1).ok()) Die("subscribe");
  const double cpu0 = CpuSeconds();
  const double secs = Drive(o, [&](size_t d, uint64_t seq, size_t n) {
    const std::string device = "dev-" + std::to_string(d);
    const std::string topic = ingest::AcksTopic(device);
    size_t before;
    {
      std::lock_guard l(mu);
      before = acks[topic];
    }
    if (!(*pub)->Publish(ingest::ReadingsTopic(device), Batch(seq, n, time, f.tokens[d]), 1).ok())
      Die("publish");
    std::unique_lock l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(60), [&] { return acks[topic] > before; }))
      Die("no MQTT ack");
  });
  const size_t stored = CountObservations(f.store.get());
  if (stored != o.readings / o.devices * o.devices) Die("MQTT: stored " + std::to_string(stored));
  return Rate{stored / secs, stored / (CpuSeconds() - cpu0)};
}

std::vector<std::string> AcceptedHl7Messages() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(MEDHUB_SHARED_DATA "/hl7v2")) {
    if (!e.is_regular_file() || e.path().extension() == ".csv") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    for (std::string& m : ingest::hl7::SplitMessages(ss.str())) {
      auto parsed = ingest::hl7::Parse(m);
      if (parsed.ok() && ingest::hl7::MapMessage(*parsed).ok()) out.push_back(std::move(m));
    }
  }
  return out;
}

void Hl7(const Options& o) {
  const std::vector<std::string> messages = AcceptedHl7Messages();
  size_t resources = 0;
  auto start = Clock::now();
  for (size_t r = 0; r < o.hl7_rounds; ++r)
    for (const std::string& m : messages)
      resources += ingest::hl7::MapMessage(*ingest::hl7::Parse(m)).value().resources.size();
  const double map_secs = Seconds(start);
  size_t fields = 0;
  start = Clock::now();
  for (size_t r = 0; r < o.hl7_rounds; ++r)
    for (const std::string& m : messages) {
      std::vector<std::vector<std::string>> segments;  // naive: split on \r/\n and '|' only
      std::stringstream ss(m);
      std::string line;
      while (std::getline(ss, line, '\r')) {
        auto& seg = segments.emplace_back();
        std::stringstream ls(line);
        std::string field;
        while (std::getline(ls, field, '|')) seg.push_back(field);
        fields += seg.size();
      }
    }
  const double split_secs = Seconds(start);
  const double n = static_cast<double>(messages.size() * o.hl7_rounds);
  std::printf("hl7 parse+map      %10.0f messages/s  (%zu messages x %zu rounds, %zu resources)\n",
              n / map_secs, messages.size(), o.hl7_rounds, resources / o.hl7_rounds);
  std::printf("hl7 naive split    %10.0f messages/s  (peer; %zu fields)   ratio %.2f\n",
              n / split_secs, fields / o.hl7_rounds, split_secs / map_secs);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--readings")
      o.readings = std::stoul(v);
    else if (k == "--batch")
      o.batch = std::stoul(v);
    else if (k == "--devices")
      o.devices = std::stoul(v);
    else if (k == "--clients")
      o.clients = std::stoul(v);
    else if (k == "--work")
      o.work = v;
    else if (k == "--mosquitto")
      o.mosquitto = v;
    else if (k == "--hl7-rounds")
      o.hl7_rounds = std::stoul(v);
    else
      Die("unknown flag " + k);
  }
  if (o.devices == 0 || o.clients == 0 || o.batch == 0 || o.batch > 10000) Die("bad flags");
  return o;
}

}  // namespace
}  // namespace medhub::bench

int main(int argc, char** argv) {
  using namespace medhub::bench;
  const Options o = ParseArgs(argc, argv);
  std::printf("ingest_bench: %zu readings, batches of %zu, %zu devices, %zu clients, %u cores\n",
              o.readings, o.batch, o.devices, o.clients, std::thread::hardware_concurrency());
  const std::string time = medhub::FormatInstant(medhub::NowMicros() - 60'000'000);
  Hl7(o);
  Rate http_ledger, fhir_ledger;
  const Rate http = HttpDevices(o, time, &http_ledger);
  std::printf("http device API    %10.0f readings/s  (durable; %.0f per CPU-second)\n",
              http.per_second, http.per_cpu_second);
  const Rate fhir = HttpFhirBundles(o, time, &fhir_ledger);
  std::printf(
      "http FHIR bundles  %10.0f readings/s  (peer: same Observations, transaction; %.0f per "
      "CPU-second)  ratio %.2f\n",
      fhir.per_second, fhir.per_cpu_second, http.per_second / fhir.per_second);
  std::printf(
      "ledger follow      %10.0f readings/s  (device readings after ingest; %.0f per CPU-second)\n",
      http_ledger.per_second, http_ledger.per_cpu_second);
  std::printf(
      "ledger follow FHIR %10.0f readings/s  (peer: the Bundles' Observations; %.0f per "
      "CPU-second)  ratio %.2f\n",
      fhir_ledger.per_second, fhir_ledger.per_cpu_second,
      http_ledger.per_cpu_second / fhir_ledger.per_cpu_second);
  const Rate mqtt = Mqtt(o, time);
  std::printf(
      "mqtt device ingest %10.0f readings/s  (durable, acked; %.0f per CPU-second)  MQTT/HTTP "
      "ratio %.2f\n",
      mqtt.per_second, mqtt.per_cpu_second, mqtt.per_second / http.per_second);
  std::filesystem::remove_all(o.work);
  return 0;
}
