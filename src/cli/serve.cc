#include "cli/serve.h"

#include <atomic>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "core/time.h"
#include "security/audit.h"
#include "security/relations.h"
#include "server/audited.h"
#include "server/auth_api.h"
#include "server/bulk_export_api.h"
#include "server/fhir_api.h"
#include "server/http_server.h"
#include "server/http_util.h"
#include "server/ledger_api.h"
#include "server/mpi_api.h"
#include "sync/mpi.h"

namespace medhub::cli {
namespace {

using server::Audited;
using server::Who;

std::string LandingPage() {
  return R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medhub</title></head>
<body><h1>medhub</h1><p>The personal health data center. The FHIR R4 API is at
<a href="/fhir/metadata">/fhir</a>.</p><ul>
<li><a href="/fhir/metadata">/fhir/metadata</a> — what this server supports</li>
<li><a href="/fhir/Patient?_count=20">/fhir/Patient</a> — patients</li>
<li><a href="/fhir/_history?_count=20">/fhir/_history</a> — the latest changes</li>
<li><a href="/ledger/head">/ledger/head</a> — the ledger's signed tree head</li>
</ul></body></html>)";
}

server::HttpResponse LandingResponse() {
  server::HttpResponse r;
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
  r.body = LandingPage();
  return r;
}

// Bulk Data $export hands out whole populations, so only system-level readers (`service`
// clients, whose scopes are system/*) may start, poll, download or cancel an export:
// 401 without a valid token, 403 for every other role (docs/security.md).
template <typename Handle>
server::HttpResponse ExportGate(const Who& who, Handle&& handle) {
  if (!who.ok()) {
    server::HttpResponse r = server::ErrorResponse(who.status());
    r.headers.emplace_back("WWW-Authenticate", server::BearerChallenge(who.status()));
    return r;
  }
  if (who->role != security::Role::kService)
    return server::ErrorResponse(Status::PermissionDenied(
        "$export is for system-level clients (role service with system/*.read scopes)"));
  return handle();
}

// Turns on the access policy of a FHIR API: bearer tokens checked by the token service,
// relations from the cache, AuditEvents in the store (docs/security.md, "What is
// enforced"). `auth`, `relations` and `audit` must outlive the API built with `options`.
void EnforcePolicy(server::FhirApiOptions* options, const server::AuthApi* auth,
                   security::RelationCache* relations, security::AuditLog* audit) {
  options->authenticate = [auth](const server::HttpRequest& req) {
    return auth->Authenticate(req);
  };
  options->challenge = [](const Status& s) { return server::BearerChallenge(s); };
  options->relations = relations;
  options->audit = audit;
}

// The answer for errors the HTTP server detects itself: an OperationOutcome.
server::HttpResponse ServerError(int status, std::string_view message) {
  Status s = status == 413 ? Status::ResourceExhausted(std::string(message))
                           : Status::InvalidArgument(std::string(message));
  server::HttpResponse r = server::ErrorResponse(s);
  r.status = status;
  return r;
}

// Everything behind the HTTP server, wired together. Open() starts the token service and
// the data-in listeners; Route() is the request handler (thread-safe once open).
class ServedApis {
 public:
  ServedApis(store::Store* store, const ledger::Ledger* ledger, const ServeConfig& config,
             security::RelationCache* shared_relations)
      : store_(store),
        config_(config),
        own_relations_(store),
        relations_(shared_relations ? shared_relations : &own_relations_),
        audit_(store),
        ledger_api_(ledger, store),
        mpi_(store, sync::MpiConfig{}),
        bulk_export_(store, {config.data + "/exports"}) {
    ledger_api_.set_evidence(config.evidence);
  }

  Status Open() {
    server::AuthApiOptions auth_options;
    auth_options.data_dir = config_.data;
    ASSIGN_OR_RETURN(auth_, server::AuthApi::Open(store_, std::move(auth_options)));
    mpi_api_ = std::make_unique<server::MpiApi>(
        &mpi_, [this](const server::HttpRequest& req) { return auth_->Authenticate(req); });
    IngestConfig ingest = config_.ingest;
    ingest.address = config_.address;
    // The policy's care relations: changed by FHIR writes, synced sources, HL7 Encounters.
    ingest.on_relations = [this](const std::vector<std::string>& patients) {
      for (const std::string& p : patients) relations_->Invalidate(p);
    };
    ingest.audit = &audit_;  // HL7 v2 messages over MLLP are audited too
    ASSIGN_OR_RETURN(ingest_, IngestServices::Start(store_, auth_.get(), ingest));
    // The base URL (for Location headers and links) is known only once the port is bound:
    // requests that arrive before then are served by an API with the configured port.
    early_ = std::make_unique<server::FhirApi>(
        store_, FhirOptions(config_.scheme() + "://" + config_.address + ":" +
                            std::to_string(config_.port) + "/fhir"));
    fhir_ = early_.get();
    return Status::Ok();
  }

  // Serves /fhir with links under `url` from now on.
  void Bind(const std::string& url) {
    bound_ = std::make_unique<server::FhirApi>(store_, FhirOptions(url + "/fhir"));
    fhir_ = bound_.get();
  }

  // Requests the HTTP server refused itself (malformed, 413, 431) or that broke a handler
  // (500) go into the audit trail too, with what is known of them.
  void RecordRefused(const server::RefusedRequest& r) {
    const security::AuditRecord rec = security::AuditRecordFor(
        nullptr, NowMicros(), r.remote_address, "", r.method, r.target, r.status, r.reason);
    if (Status s = audit_.Record(rec, /*wait=*/false); !s.ok())
      std::cerr << "medhub: audit of a refused request: " << s.message() << "\n";
  }

  server::HttpResponse Route(const server::HttpRequest& req) {
    const std::string& path = req.path;
    if (path.starts_with("/api/mpi/")) {
      return Audited(req, *auth_, &audit_, "mpi",
                     [&](const Who&) { return mpi_api_->Handle(req); });
    }
    if (path.starts_with("/api/devices/")) {
      return Audited(req, *auth_, &audit_, "device-readings",
                     [&](const Who& who) { return ingest_->HandleDevices(req, who); });
    }
    if (path == "/auth" || path.starts_with("/auth/")) return auth_->Handle(req);
    if (server::BulkExportApi::Matches(path)) {
      return Audited(req, *auth_, &audit_, "operation", [&](const Who& who) {
        return ExportGate(who, [&] {
          return bulk_export_.Handle(req, fhir_.load()->options().base_url);
        });
      });
    }
    if (path == "/fhir" || path.starts_with("/fhir/")) return fhir_.load()->Handle(req);
    if (path == "/ledger" || path.starts_with("/ledger/")) return ledger_api_.Handle(req);
    if (path == "/" && (req.method == "GET" || req.method == "HEAD")) return LandingResponse();
    if (path == "/healthz")
      return server::JsonResponse(200, R"({"status":"ok"})", "application/json");
    return server::ErrorResponse(Status::NotFound("no such path: " + path));
  }

  int mllp_port() const { return ingest_->mllp_port(); }

 private:
  server::FhirApiOptions FhirOptions(const std::string& base) {
    server::FhirApiOptions o{base, &ledger_api_, [this](std::string_view patient) {
                               auto ids = mpi_.LinkedPatients(patient);
                               return ids.ok() ? std::move(ids).value()
                                               : std::vector<std::string>{};
                             }};
    EnforcePolicy(&o, auth_.get(), relations_, &audit_);
    return o;
  }

  store::Store* store_;
  const ServeConfig& config_;
  security::RelationCache own_relations_;
  security::RelationCache* relations_;
  security::AuditLog audit_;  // before the listeners that record into it
  std::unique_ptr<server::AuthApi> auth_;
  server::LedgerApi ledger_api_;
  sync::Mpi mpi_;
  std::unique_ptr<server::MpiApi> mpi_api_;
  server::BulkExportApi bulk_export_;
  std::unique_ptr<IngestServices> ingest_;
  std::unique_ptr<server::FhirApi> early_, bound_;
  std::atomic<server::FhirApi*> fhir_{nullptr};
};

}  // namespace

Result<ServeConfig> ServeConfigFrom(const Flags& f) {
  ServeConfig c;
  c.address = f.Get("address", c.address);
  ASSIGN_OR_RETURN(uint64_t port, f.GetUint("port", 8080));
  if (port > 65535) return Status::InvalidArgument("--port must be 0-65535");
  c.port = static_cast<uint16_t>(port);
  ASSIGN_OR_RETURN(uint64_t max_body, f.GetUint("max-body", c.max_body));
  c.max_body = max_body;
  ASSIGN_OR_RETURN(uint64_t threads, f.GetUint("threads", 0));
  c.threads = static_cast<int>(threads);
  c.tls_cert = f.Get("tls-cert");
  c.tls_key = f.Get("tls-key");
  if (c.tls_cert.empty() != c.tls_key.empty())
    return Status::InvalidArgument(
        "--tls-cert and --tls-key must be given together (TLS needs both)");
  return c;
}

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

Status ServeUntilStopped(store::Store* store, const ledger::Ledger* ledger,
                         const ServeConfig& config,
                         const std::function<void(const std::string& url)>& on_ready,
                         security::RelationCache* shared_relations) {
  ServedApis apis(store, ledger, config, shared_relations);
  RETURN_IF_ERROR(apis.Open());
  const sigset_t stop_signals = BlockStopSignals();
  server::HttpServerOptions options;
  options.address = config.address;
  options.port = config.port;
  options.max_body_bytes = config.max_body;
  options.threads = config.threads;
  options.tls_cert_file = config.tls_cert;
  options.tls_key_file = config.tls_key;
  options.on_refused = [&apis](const server::RefusedRequest& r) { apis.RecordRefused(r); };
  ASSIGN_OR_RETURN(
      std::unique_ptr<server::HttpServer> srv,
      server::HttpServer::Start(
          options, [&apis](const server::HttpRequest& req) { return apis.Route(req); },
          ServerError));
  const std::string url = config.scheme() + "://" + config.address + ":" +
                          std::to_string(srv->port());
  apis.Bind(url);
  on_ready(url);
  if (apis.mllp_port() > 0) std::cout << "mllp listening on " << apis.mllp_port() << std::endl;
  std::cout << "listening on " << url << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cerr << "medhub: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << " received, finishing requests in flight\n";
  srv->Shutdown();
  srv->Wait();
  return Status::Ok();
}

}  // namespace medhub::cli
