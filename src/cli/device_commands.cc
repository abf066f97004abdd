#include "cli/device_commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/data_store.h"
#include "cli/flags.h"
#include "core/json.h"
#include "core/time.h"
#include "ingest/simulator.h"
#include "security/clients.h"
#include "security/scope.h"

namespace medhub::cli {

const char kDevicesUsage[] =
    R"(  devices register --data DIR --patient ID [--count N] [--prefix P] --out FILE
          Create N Device resources bound to the patient, each with its own OAuth client
          (role device); write their credentials to FILE.
  devices simulate --credentials FILE --devices N --rate R (--http URL | --mqtt HOST:PORT
          --auth URL) [--duration S] [--spool DIR] [--batch B] [--drain S]
          Simulate N devices sending R readings/s each, store-and-forward (spool in DIR).
)";

namespace {

int Fail(const Status& s) {
  std::cerr << "medhub devices: " << s.message() << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

Status Register(const Flags& f) {
  const std::string patient = f.Get("patient");
  const std::string out = f.Get("out");
  if (patient.empty() || out.empty())
    return Status::InvalidArgument("devices register needs --patient ID and --out FILE");
  ASSIGN_OR_RETURN(uint64_t count, f.GetUint("count", 1));
  if (count == 0 || count > 10000) return Status::InvalidArgument("--count must be 1-10000");
  const std::string prefix = f.Get("prefix", "device");
  ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStore(f));
  auto p = store->Read("Patient", patient);
  if (!p.ok() || p->deleted) return Status::NotFound("Patient/" + patient + " does not exist");
  security::Clients clients(store.get());
  std::ofstream file(out, std::ios::trunc);
  if (!file) return Status::Unavailable("cannot write " + out);
  chmod(out.c_str(), 0600);
  for (uint64_t i = 1; i <= count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    store::WriteOp op;
    op.type = "Device";
    op.id = id;
    ASSIGN_OR_RETURN(op.resource,
                     json::Parse(R"({"resourceType":"Device","id":")" + id +
                                 R"(","status":"active","patient":{"reference":"Patient/)" +
                                 patient + R"("}})"));
    RETURN_IF_ERROR(store->Commit({std::move(op)}).status());
    security::Client c;
    c.client_id = id;
    c.role = security::Role::kDevice;
    c.device = id;
    c.patient = patient;
    c.scopes = security::RoleScopes(security::Role::kDevice);
    ASSIGN_OR_RETURN(std::string secret, clients.Add(c, NowMicros()));
    file << id << "\t" << id << "\t" << secret << "\n";
  }
  file.close();
  if (!file) return Status::Unavailable("cannot write " + out);
  std::cout << "registered " << count << " devices for Patient/" << patient << "; credentials in "
            << out << "\n";
  return Status::Ok();
}

// The flag as a finite number >= 0. Errors: InvalidArgument.
Result<double> PositiveNumber(const Flags& f, const std::string& name,
                              const std::string& fallback) {
  const std::string text = f.Get(name, fallback);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= 0) || v > 1e9)
    return Status::InvalidArgument("--" + name + " must be a number >= 0");
  return v;
}

Result<ingest::SimulatorOptions> SimulateOptions(const Flags& f) {
  ingest::SimulatorOptions o;
  ASSIGN_OR_RETURN(o.devices, ingest::ReadCredentials(f.Get("credentials")));
  ASSIGN_OR_RETURN(uint64_t n, f.GetUint("devices", o.devices.size()));
  if (n == 0 || n > o.devices.size())
    return Status::InvalidArgument("--devices must be 1-" + std::to_string(o.devices.size()) +
                                   " (the devices in the credentials file)");
  o.devices.resize(n);
  ASSIGN_OR_RETURN(o.rate, PositiveNumber(f, "rate", "1"));
  if (o.rate <= 0) return Status::InvalidArgument("--rate must be > 0");
  ASSIGN_OR_RETURN(o.duration_s, PositiveNumber(f, "duration", "10"));
  ASSIGN_OR_RETURN(uint64_t drain, f.GetUint("drain", 120));
  o.drain_timeout_s = static_cast<double>(drain);
  ASSIGN_OR_RETURN(uint64_t batch, f.GetUint("batch", 500));
  if (batch == 0 || batch > 10000) return Status::InvalidArgument("--batch must be 1-10000");
  o.max_batch = batch;
  o.http_url = f.Get("http");
  o.mqtt = f.Get("mqtt");
  o.auth_url = f.Get("auth");
  o.spool_dir = f.Get("spool", "medhub-spool");
  return o;
}

int Simulate(const Flags& f) {
  auto options = SimulateOptions(f);
  if (!options.ok()) return Fail(options.status());
  auto counts = ingest::RunSimulator(*options, [](const ingest::SimulatorCounts& c) {
    std::cout << ingest::FormatCounts(c) << std::endl;
  });
  if (!counts.ok()) return Fail(counts.status());
  std::cout << "done: " << ingest::FormatCounts(*counts) << std::endl;
  return counts->in_flight == 0 ? 0 : 1;
}

}  // namespace

int RunDevices(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "register" && args[0] != "simulate")) {
    std::cerr << "usage: medhub\n" << kDevicesUsage;
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "register") {
    auto f = Flags::Parse(rest, {"data", "patient", "count", "prefix", "out"});
    if (!f.ok()) return Fail(f.status());
    const Status s = Register(*f);
    return s.ok() ? 0 : Fail(s);
  }
  auto f = Flags::Parse(rest, {"credentials", "devices", "rate", "http", "mqtt", "auth", "duration",
                               "spool", "batch", "drain"});
  if (!f.ok()) return Fail(f.status());
  return Simulate(*f);
}

}  // namespace medhub::cli
