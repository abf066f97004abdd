#include "ingest/simulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/http_client.h"
#include "core/json.h"
#include "core/time.h"
#include "ingest/mqtt_client.h"
#include "ingest/mqtt_ingest.h"
#include "ingest/spool.h"

namespace medhub::ingest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);
constexpr auto kMqttAckTimeout = std::chrono::milliseconds(3000);

// A plausible reading for `seq`, cycling through the kinds.
std::string MakeReading(uint64_t seq, int64_t now) {
  const std::string head =
      R"({"seq":)" + std::to_string(seq) + R"(,"time":")" + FormatInstant(now) + R"(",)";
  const uint64_t v = seq * 7919;
  switch (seq % 5) {
    case 0:
      return head + R"("kind":"heart-rate","value":)" + std::to_string(55 + v % 50) +
             R"(,"unit":"/min"})";
    case 1:
      return head + R"("kind":"spo2","value":)" + std::to_string(92 + v % 8) + R"(,"unit":"%"})";
    case 2:
      return head + R"("kind":"blood-pressure","values":[)" + std::to_string(105 + v % 60) + "," +
             std::to_string(65 + v % 30) + R"(],"unit":"mm[Hg]"})";
    case 3:
      return head + R"("kind":"glucose","value":)" + std::to_string(70 + v % 90) +
             R"(,"unit":"mg/dL"})";
    default:
      return head + R"("kind":"body-temperature","value":36.)" + std::to_string(v % 10) +
             R"(,"unit":"Cel"})";
  }
}

std::string BatchBody(const std::vector<std::pair<uint64_t, std::string>>& batch,
                      const std::string& token) {
  std::string body = "{";
  if (!token.empty()) body += "\"token\":\"" + token + "\",";
  body += "\"readings\":[";
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i) body += ',';
    body += batch[i].second;
  }
  return body + "]}";
}

std::vector<uint64_t> SeqList(const json::Value* list) {
  std::vector<uint64_t> out;
  if (!list || !list->is_array()) return out;
  for (const json::Value& v : list->items())
    if (auto n = v.as_int(); n && *n >= 0) out.push_back(static_cast<uint64_t>(*n));
  return out;
}

class Simulator {
 public:
  Simulator(const SimulatorOptions& options, std::unique_ptr<Spool> spool)
      : options_(options), spool_(std::move(spool)) {}
  // The MQTT callback uses the members below: stop its thread before they go.
  ~Simulator() { mqtt_.reset(); }

  Status StartMqtt();
  void DeviceLoop(size_t index);
  SimulatorCounts Counts();
  // Applies a reply or ack body for `device`; false when it is an error reply.
  bool ApplyReply(const std::string& device, std::string_view body);
  bool NeedsNewToken(const std::string& device);

  const SimulatorOptions options_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<MqttClient> mqtt_;
  Clock::time_point start_ = Clock::now();
  std::atomic<uint64_t> sent_{0}, acknowledged_{0}, retried_{0}, stored_{0}, duplicates_{0},
      rejected_{0};
  std::mutex latency_mu_;
  std::map<std::string, std::map<uint64_t, Clock::time_point>> made_at_;  // GUARDED_BY(latency_mu_)
  std::vector<double> latencies_ms_;                                      // GUARDED_BY(latency_mu_)
  void NoteMade(const std::string& device, uint64_t seq) {
    std::lock_guard lock(latency_mu_);
    made_at_[device][seq] = Clock::now();
  }
  void NoteAcked(const std::string& device, const std::vector<uint64_t>& seqs) {
    const auto now = Clock::now();
    std::lock_guard lock(latency_mu_);
    auto& made = made_at_[device];
    for (uint64_t s : seqs) {
      auto it = made.find(s);
      if (it == made.end()) continue;
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      made.erase(it);
    }
  }
  std::mutex token_mu_;
  std::set<std::string> refused_tokens_;  // GUARDED_BY(token_mu_): devices to re-token
  const std::atomic<bool>* stop_ = nullptr;

 private:
  Result<std::string> Token(const DeviceCredential& cred, HttpClient* http);
  Status SendHttp(const DeviceCredential& cred, HttpClient* http, std::string* token,
                  const std::vector<std::pair<uint64_t, std::string>>& batch);
  // Publishes a batch (the ack arrives later on the MQTT thread).
  Status SendMqtt(const DeviceCredential& cred, HttpClient* http, std::string* token,
                  const std::vector<std::pair<uint64_t, std::string>>& batch);
};

Result<std::string> Simulator::Token(const DeviceCredential& cred, HttpClient* http) {
  HttpClientRequest req;
  req.method = "POST";
  req.url = (options_.auth_url.empty() ? options_.http_url : options_.auth_url) + "/auth/token";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = "grant_type=client_credentials&client_id=" + UrlEncode(cred.client_id) +
             "&client_secret=" + UrlEncode(cred.secret);
  ASSIGN_OR_RETURN(HttpClientResponse resp, http->Send(req));
  if (resp.status != 200)
    return Status::Unauthenticated("token endpoint answered " + std::to_string(resp.status));
  ASSIGN_OR_RETURN(json::Value v, json::Parse(resp.body));
  return std::string(v.get_string("access_token"));
}

bool Simulator::ApplyReply(const std::string& device, std::string_view body) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return false;
  if (v->find("error")) {
    if (v->get_string("error") == "Unauthenticated") {
      std::lock_guard lock(token_mu_);
      refused_tokens_.insert(device);
    }
    return false;
  }
  std::vector<uint64_t> stored = SeqList(v->find("stored"));
  std::vector<uint64_t> dups = SeqList(v->find("duplicates"));
  std::vector<uint64_t> all = stored;
  all.insert(all.end(), dups.begin(), dups.end());
  if (const json::Value* rej = v->find("rejected"); rej && rej->is_array()) {
    for (const json::Value& r : rej->items())
      if (const json::Value* s = r.find("seq"); s && s->as_int()) {
        all.push_back(static_cast<uint64_t>(*s->as_int()));
        ++rejected_;
      }
  }
  stored_ += stored.size();
  duplicates_ += dups.size();
  NoteAcked(device, all);
  auto acked = spool_->Ack(device, all);
  if (acked.ok()) acknowledged_ += *acked;
  return true;
}

bool Simulator::NeedsNewToken(const std::string& device) {
  std::lock_guard lock(token_mu_);
  return refused_tokens_.erase(device) > 0;
}

Status Simulator::SendHttp(const DeviceCredential& cred, HttpClient* http, std::string* token,
                           const std::vector<std::pair<uint64_t, std::string>>& batch) {
  if (token->empty() || NeedsNewToken(cred.device_id)) {
    ASSIGN_OR_RETURN(*token, Token(cred, http));
  }
  HttpClientRequest req;
  req.method = "POST";
  req.url = options_.http_url + "/api/devices/" + UrlEncode(cred.device_id) + "/readings";
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Authorization", "Bearer " + *token);
  req.body = BatchBody(batch, "");
  req.timeout = std::chrono::milliseconds(30000);
  ASSIGN_OR_RETURN(HttpClientResponse resp, http->Send(req));
  if (resp.status == 401) {
    token->clear();
    return Status::Unauthenticated("token refused");
  }
  if (resp.status != 200)
    return Status::Unavailable("medhub answered " + std::to_string(resp.status));
  if (!ApplyReply(cred.device_id, resp.body)) return Status::Unavailable("unreadable reply");
  return Status::Ok();
}

Status Simulator::SendMqtt(const DeviceCredential& cred, HttpClient* http, std::string* token,
                           const std::vector<std::pair<uint64_t, std::string>>& batch) {
  if (token->empty() || NeedsNewToken(cred.device_id)) {
    ASSIGN_OR_RETURN(*token, Token(cred, http));
  }
  return mqtt_->Publish(ReadingsTopic(cred.device_id), BatchBody(batch, *token), 1);
}

Status Simulator::StartMqtt() {
  const size_t colon = options_.mqtt.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--mqtt must be HOST:PORT");
  MqttClientOptions o;
  o.host = options_.mqtt.substr(0, colon);
  o.port = std::atoi(options_.mqtt.c_str() + colon + 1);
  ASSIGN_OR_RETURN(mqtt_,
                   MqttClient::Start(o, [this](std::string_view topic, std::string_view body) {
                     // medhub/devices/<id>/acks
                     std::string_view t = topic.substr(std::string_view("medhub/devices/").size());
                     ApplyReply(std::string(t.substr(0, t.find('/'))), body);
                   }));
  for (const DeviceCredential& d : options_.devices)
    RETURN_IF_ERROR(mqtt_->Subscribe(AcksTopic(d.device_id), 1));
  return Status::Ok();
}

// Makes the readings that are due for one device; returns how many.
size_t MakeDue(Spool* spool, const std::string& device, double rate, double elapsed_s,
               uint64_t* made, const std::function<void(uint64_t)>& note) {
  const uint64_t due = static_cast<uint64_t>(rate * elapsed_s);
  size_t n = 0;
  for (; *made < due && n < 10000; ++*made, ++n) {
    const uint64_t seq = spool->NextSeq(device);
    (void)spool->Add(device, seq, MakeReading(seq, NowMicros()));
    note(seq);
  }
  return n;
}

void Simulator::DeviceLoop(size_t index) {
  const DeviceCredential& cred = options_.devices[index];
  HttpClient http;
  std::string token;
  uint64_t made = 0;
  std::set<uint64_t> sent_once;
  for (const auto& [seq, json] : spool_->Pending(cred.device_id)) sent_once.insert(seq);
  std::map<uint64_t, Clock::time_point> last_sent;  // MQTT: awaiting an ack
  auto backoff = kMinBackoff;
  Clock::time_point next_try = start_;
  const auto end = start_ + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options_.duration_s));
  const auto drain_end = end + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options_.drain_timeout_s));
  while (!(stop_ && stop_->load())) {
    const auto now = Clock::now();
    // Readings due by now (or by the end, when a slow send overran it): rate x duration.
    const double elapsed =
        std::min(std::chrono::duration<double>(now - start_).count(), options_.duration_s);
    if (MakeDue(spool_.get(), cred.device_id, options_.rate, elapsed, &made,
                [&](uint64_t seq) { NoteMade(cred.device_id, seq); }) > 0)
      (void)spool_->Sync();  // durable before sent
    const std::map<uint64_t, std::string> pending = spool_->Pending(cred.device_id);
    if ((pending.empty() && now >= end) || now >= drain_end) break;
    if (pending.empty() || now < next_try) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    std::vector<std::pair<uint64_t, std::string>> batch;
    for (const auto& [seq, json] : pending) {
      if (mqtt_) {
        auto it = last_sent.find(seq);
        if (it != last_sent.end() && now - it->second < kMqttAckTimeout * (backoff / kMinBackoff))
          continue;
      }
      batch.emplace_back(seq, json);
      if (batch.size() >= options_.max_batch) break;
    }
    if (batch.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    for (const auto& [seq, json] : batch) ++(sent_once.insert(seq).second ? sent_ : retried_);
    Status s;
    if (mqtt_) {
      s = SendMqtt(cred, &http, &token, batch);
      if (s.ok())
        for (const auto& [seq, json] : batch) last_sent[seq] = now;
      std::erase_if(last_sent, [&](const auto& e) { return !pending.contains(e.first); });
    } else {
      s = SendHttp(cred, &http, &token, batch);
    }
    backoff = s.ok() ? kMinBackoff : std::min(backoff * 2, kMaxBackoff);
    next_try = s.ok() ? now : now + backoff;
  }
}

SimulatorCounts Simulator::Counts() {
  SimulatorCounts c;
  c.sent = sent_;
  c.acknowledged = acknowledged_;
  c.retried = retried_;
  c.in_flight = spool_->PendingCount();
  c.stored = stored_;
  c.duplicates = duplicates_;
  c.rejected = rejected_;
  std::lock_guard lock(latency_mu_);
  if (!latencies_ms_.empty()) {
    std::vector<double> sorted = latencies_ms_;
    std::sort(sorted.begin(), sorted.end());
    c.latency_p50_ms = sorted[sorted.size() / 2];
    c.latency_p99_ms = sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
  }
  return c;
}

}  // namespace

Result<std::vector<DeviceCredential>> ReadCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read credentials file " + path);
  std::vector<DeviceCredential> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos)
      return Status::InvalidArgument("credentials: expected device<TAB>client<TAB>secret");
    const size_t c = line.find('\t', b + 1);
    out.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1),
                   line.substr(b + 1, c == std::string::npos ? c : c - b - 1)});
  }
  return out;
}

namespace {
std::string Ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
}  // namespace

std::string FormatCounts(const SimulatorCounts& c) {
  return "sent=" + std::to_string(c.sent) + " acknowledged=" + std::to_string(c.acknowledged) +
         " retried=" + std::to_string(c.retried) + " in_flight=" + std::to_string(c.in_flight) +
         " stored=" + std::to_string(c.stored) + " duplicates=" + std::to_string(c.duplicates) +
         " rejected=" + std::to_string(c.rejected) + " p50_ms=" + Ms(c.latency_p50_ms) +
         " p99_ms=" + Ms(c.latency_p99_ms);
}

Result<SimulatorCounts> RunSimulator(const SimulatorOptions& options,
                                     const std::function<void(const SimulatorCounts&)>& progress,
                                     const std::atomic<bool>* stop) {
  if (options.devices.empty()) return Status::InvalidArgument("no devices to simulate");
  if (options.http_url.empty() == options.mqtt.empty())
    return Status::InvalidArgument("give exactly one of --http URL and --mqtt HOST:PORT");
  if (options.mqtt.size() && options.auth_url.empty())
    return Status::InvalidArgument("--mqtt needs --auth URL (medhub's base URL, for tokens)");
  if (options.rate <= 0 || options.max_batch == 0)
    return Status::InvalidArgument("--rate must be positive");
  ASSIGN_OR_RETURN(std::unique_ptr<Spool> spool, Spool::Open(options.spool_dir));
  Simulator sim(options, std::move(spool));
  sim.stop_ = stop;
  if (!options.mqtt.empty()) RETURN_IF_ERROR(sim.StartMqtt());
  std::atomic<size_t> running{options.devices.size()};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < options.devices.size(); ++i)
    threads.emplace_back([&sim, &running, i] {
      sim.DeviceLoop(i);
      --running;
    });
  auto next_report = Clock::now() + std::chrono::seconds(1);
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Clock::now() >= next_report) {
      progress(sim.Counts());
      next_report += std::chrono::seconds(1);
    }
  }
  for (auto& t : threads) t.join();
  (void)sim.spool_->Sync();
  if (sim.spool_->PendingCount() == 0) RETURN_IF_ERROR(sim.spool_->Compact());
  return sim.Counts();
}

}  // namespace medhub::ingest
