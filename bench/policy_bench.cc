// policy_bench: what access control costs per request, against the same request with the
// policy off, in the same run (docs/benchmarks.md, "Access control").
//
//   1. Token verification rate on one thread: TokenService::Verify (signature, claims,
//      revocation lookups in the store) and AuthApi::Authenticate (header parsing too).
//   2. Per-request latency of FhirApi::Handle, in-process, for the same requests through
//      an API without policy and through one that enforces it (token check, scopes, policy,
//      relation cache; audit off), interleaved request by request: read, search and
//      $everything as the patient and as a caring practitioner. Overhead = p50/p99 with
//      policy minus p50/p99 without.
//   3. The same read with the AuditEvent written (durable, group-committed) per request.
//
// Usage: policy_bench [--patients N] [--iterations N] [--work DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/importer.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "security/audit.h"
#include "security/relations.h"
#include "server/auth_api.h"
#include "server/fhir_api.h"
#include "store/store.h"

namespace medhub {
namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(rank, v.size() - 1)];
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Setup {
  std::string patient;       // the largest loaded patient
  std::string organization;  // an Encounter's serviceProvider of that patient
};

Result<Setup> Load(store::Store* store, const std::string& dir, size_t patients) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, cli::Importer::ListFiles({dir}));
  files.resize(std::min(files.size(), patients));
  server::FhirApi api(store, server::FhirApiOptions{});
  Setup s;
  size_t largest = 0;
  for (const std::string& f : files) {
    ASSIGN_OR_RETURN(json::Value bundle, json::Parse(ReadFile(f)));
    std::string patient;
    size_t n = 0;
    for (const json::Value& e : bundle.find("entry")->items()) {
      ++n;
      const json::Value* r = e.find("resource");
      if (r && fhir::ResourceType(*r) == "Patient") patient = std::string(fhir::ResourceId(*r));
    }
    RETURN_IF_ERROR(api.ProcessBundle(std::move(bundle), /*keep_ids=*/true).status());
    if (n > largest) {
      largest = n;
      s.patient = patient;
    }
  }
  ASSIGN_OR_RETURN(
      auto encounters,
      store->Search(
          fhir::ParseSearchQuery("Encounter", {{"patient", "Patient/" + s.patient}}).value()));
  for (const std::string& id : encounters) {
    ASSIGN_OR_RETURN(auto r, store->Read("Encounter", id));
    ASSIGN_OR_RETURN(json::Value v, json::Parse(r.json));
    if (const json::Value* sp = v.find("serviceProvider")) {
      auto ref = fhir::ParseReference(sp->get_string("reference"));
      if (ref.ok()) s.organization = ref->id;
    }
    if (!s.organization.empty()) break;
  }
  if (s.organization.empty()) return Status::NotFound("no Encounter with a serviceProvider");
  return s;
}

server::HttpRequest Get(std::string target, const std::string& token) {
  server::HttpRequest r = server::HttpRequest::Get(target);
  r.headers.emplace_back("authorization", "Bearer " + token);
  r.remote_address = "127.0.0.1:50000";
  return r;
}

void VerifyRate(server::AuthApi* auth, const security::Grant& grant, size_t iterations) {
  const int64_t now = NowMicros();
  // Cold: every token new to the server, so every call checks an Ed25519 signature.
  std::vector<std::string> fresh;
  for (size_t i = 0; i < iterations / 10; ++i)
    fresh.push_back(auth->tokens().Issue(grant, false, now)->access_token);
  size_t ok = 0;
  auto start = Clock::now();
  for (const std::string& t : fresh) ok += auth->tokens().codec().Decode(t).ok();
  const double decode_s = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  for (const std::string& t : fresh) ok += auth->tokens().Verify(t, now).ok();
  const double cold_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Warm: the same token again (as a client does for its token's 15 minutes).
  start = Clock::now();
  for (size_t i = 0; i < iterations; ++i) ok += auth->tokens().Verify(fresh[0], now).ok();
  const double verify_s = std::chrono::duration<double>(Clock::now() - start).count();
  const server::HttpRequest req = Get("/fhir/Patient", fresh[0]);
  start = Clock::now();
  for (size_t i = 0; i < iterations; ++i) ok += auth->Authenticate(req).ok();
  const double auth_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "token verification, 1 thread: %.0f/s JwtCodec::Decode (envelope + Ed25519), "
      "%.0f/s new tokens (Ed25519 each), %.0f/s known tokens "
      "(TokenService::Verify), %.0f/s (AuthApi::Authenticate, header included)  [%zu/%zu ok]\n",
      static_cast<double>(fresh.size()) / decode_s, static_cast<double>(fresh.size()) / cold_s,
      static_cast<double>(iterations) / verify_s, static_cast<double>(iterations) / auth_s, ok,
      2 * fresh.size() + 2 * iterations);
}

// Runs `target` through both APIs alternately; prints p50/p99 of each and the difference.
void Compare(const char* name, server::FhirApi* open, server::FhirApi* enforced,
             const std::string& target, const std::string& token, size_t iterations) {
  const server::HttpRequest req = Get(target, token);
  std::vector<double> a, b;
  int bad = 0;
  for (size_t i = 0; i < iterations + iterations / 10; ++i) {
    auto t0 = Clock::now();
    const int s1 = open->Handle(req).status;
    auto t1 = Clock::now();
    const int s2 = enforced->Handle(req).status;
    auto t2 = Clock::now();
    bad += (s1 != 200) + (s2 != 200);
    if (i < iterations / 10) continue;  // warm-up
    a.push_back(Micros(t1 - t0));
    b.push_back(Micros(t2 - t1));
  }
  const double a50 = Percentile(a, 0.5), a99 = Percentile(a, 0.99);
  const double b50 = Percentile(b, 0.5), b99 = Percentile(b, 0.99);
  std::printf(
      "%-34s off p50 %8.1f p99 %8.1f | on p50 %8.1f p99 %8.1f | overhead p50 %7.1f "
      "p99 %7.1f us%s\n",
      name, a50, a99, b50, b99, b50 - a50, b99 - a99, bad ? "  (NON-200 ANSWERS!)" : "");
}

int Main(int argc, char** argv) {
  size_t patients = 8, iterations = 2000;
  std::string work =
      (std::filesystem::temp_directory_path() / ("policy-bench-" + NewId())).string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--patients") patients = std::stoul(v);
    if (k == "--iterations") iterations = std::stoul(v);
    if (k == "--work") work = v;
  }
  std::filesystem::create_directories(work);
  auto store = store::OpenRocksStore({work + "/store"});
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  auto setup = Load(store->get(), MEDHUB_SHARED_DATA "/fhir/synthea", patients);
  if (!setup.ok()) return std::fprintf(stderr, "%s\n", setup.status().ToString().c_str()), 1;
  server::AuthApiOptions auth_options;
  auth_options.data_dir = work;
  auto auth = server::AuthApi::Open(store->get(), auth_options);
  if (!auth.ok()) return std::fprintf(stderr, "%s\n", auth.status().ToString().c_str()), 1;
  const int64_t now = NowMicros();
  security::Grant pg{"bench-patient",
                     security::Role::kPatient,
                     "",
                     setup->patient,
                     "",
                     "",
                     security::ParseScopes("patient/*.read").value()};
  security::Grant dg{"bench-doctor",
                     security::Role::kPractitioner,
                     setup->organization,
                     "",
                     "",
                     "",
                     security::ParseScopes("user/*.*").value()};
  const std::string patient_token = (*auth)->tokens().Issue(pg, false, now)->access_token;
  const std::string doctor_token = (*auth)->tokens().Issue(dg, false, now)->access_token;

  std::printf(
      "policy_bench: %zu patients loaded; patient %s, practitioner at Organization/%s; "
      "%zu iterations\n",
      patients, setup->patient.c_str(), setup->organization.c_str(), iterations);
  VerifyRate(auth->get(), pg, iterations * 10);

  {
    security::RelationCache relations(store->get());
    security::AuditLog audit(store->get());
    server::FhirApi open(store->get(), server::FhirApiOptions{});
    server::FhirApiOptions on;
    on.authenticate = [&](const server::HttpRequest& r) { return (*auth)->Authenticate(r); };
    on.relations = &relations;
    server::FhirApi enforced(store->get(), on);
    on.audit = &audit;
    server::FhirApi audited(store->get(), on);

    const std::string p = setup->patient;
    Compare("read Patient (patient)", &open, &enforced, "/fhir/Patient/" + p, patient_token,
            iterations);
    Compare("read Patient (practitioner)", &open, &enforced, "/fhir/Patient/" + p, doctor_token,
            iterations);
    Compare("search Observation?patient (patient)", &open, &enforced,
            "/fhir/Observation?patient=Patient/" + p + "&_count=10", patient_token, iterations / 4);
    Compare("search Observation?patient (pract.)", &open, &enforced,
            "/fhir/Observation?patient=Patient/" + p + "&_count=10", doctor_token, iterations / 4);
    Compare("$everything (practitioner)", &open, &enforced, "/fhir/Patient/" + p + "/$everything",
            doctor_token, iterations / 40 + 5);
    Compare("read Patient + AuditEvent queued", &open, &audited, "/fhir/Patient/" + p,
            patient_token, iterations / 4);
    std::printf("relation cache misses: %llu\n",
                static_cast<unsigned long long>(relations.misses()));
  }  // the audit log drains before the store closes
  store->reset();
  std::filesystem::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace medhub

int main(int argc, char** argv) { return medhub::Main(argc, argv); }
