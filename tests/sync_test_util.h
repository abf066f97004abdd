// Helpers of the sync end-to-end tests: medhub nodes on loopback, each with its own data
// directory, OAuth clients for the center, and the CLI run to completion.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/tokens.h"

namespace medhub::synctest {

using namespace std::chrono_literals;

struct RunResult {
  int code = -1;
  std::string output;  // stdout and stderr
};

// Runs `medhub ARGS` to completion. Arguments must not need shell quoting.
inline RunResult Medhub(const std::vector<std::string>& args) {
  std::string cmd = std::string("exec ") + MEDHUB_BINARY;
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  testing::ChildProcess p({"/bin/sh", "-c", cmd});
  p.ReadLineContaining("\x01 never printed", 300s);  // reads to EOF
  RunResult r;
  r.code = p.Wait(60s);
  r.output = p.output();
  return r;
}

// Imports files without a shell (Synthea file names contain quotes); returns the number
// of resources imported.
inline size_t Import(const std::string& data, const std::vector<std::string>& files) {
  std::vector<std::string> argv{MEDHUB_BINARY, "import", "--data", data};
  argv.insert(argv.end(), files.begin(), files.end());
  testing::ChildProcess p(argv);
  const std::string line = p.ReadLineContaining(" ok, ", 300s);
  EXPECT_EQ(p.Wait(60s), 0) << p.output();
  std::smatch m;
  if (!std::regex_search(line, m, std::regex(R"(: (\d+) ok, 0 failed)"))) return 0;
  return std::stoul(m[1]);
}

// Registers a client (by default a read-only service client) on `data` and writes its
// secret to `secret_file`. The node must not be running (the store is opened).
inline void AddServiceClient(const std::string& data, const std::string& id,
                             const std::string& secret_file,
                             const std::string& scope = "system/*.read",
                             const std::string& role = "service") {
  const std::string secret =
      testing::AddClient(MEDHUB_BINARY, data, id, role, scope, {"--org", "consortium"});
  ASSERT_FALSE(secret.empty()) << "medhub client add " << id << " failed";
  std::ofstream(secret_file) << secret << "\n";
}

// A bearer token of client `id` from the medhub at `port` (client-credentials grant).
inline std::string TokenAt(uint16_t port, const std::string& id, const std::string& secret_file) {
  std::ifstream in(secret_file);
  std::string secret;
  in >> secret;
  testing::HttpClient c("127.0.0.1", port);
  const std::string token = testing::ClientToken(c, id, secret);
  EXPECT_FALSE(token.empty()) << "no token for " << id;
  return token;
}

// A `medhub serve` on a free loopback port, stopped (SIGTERM) when destroyed.
class Node {
 public:
  explicit Node(const std::string& data)
      : process_(std::make_unique<testing::ChildProcess>(
            std::vector<std::string>{MEDHUB_BINARY, "serve", "--data", data, "--port", "0"})) {
    port_ = static_cast<uint16_t>(
        testing::PortFromListeningLine(process_->ReadLineContaining("listening on", 30s)));
  }
  ~Node() {
    process_->Signal(SIGTERM);
    process_->Wait(30s);
  }
  uint16_t port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir"; }
  // A bearer token of client `id` (client-credentials grant).
  std::string Token(const std::string& id, const std::string& secret_file) {
    return TokenAt(port_, id, secret_file);
  }

 private:
  std::unique_ptr<testing::ChildProcess> process_;
  uint16_t port_ = 0;
};

// A test HTTP client that sends a bearer token with every request.
class AuthedClient {
 public:
  AuthedClient(uint16_t port, std::string token)
      : http_("127.0.0.1", port), token_(std::move(token)) {}
  testing::ClientResponse Send(const std::string& method, const std::string& target,
                               const std::string& body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token_);
    return http_.Send(method, target, body, headers);
  }
  testing::ClientResponse Get(const std::string& target) { return Send("GET", target); }

 private:
  testing::HttpClient http_;
  std::string token_;
};

// The number of versions in the node's system history that a sync pulls: every version
// but the AuditEvents (a node audits every request, the sync's own included, and audit
// trails stay with their institution; docs/formats/sync.md). Pages through the whole
// history; its cursor keeps the AuditEvents of these very requests out. -1 on an error.
inline long SyncableVersions(AuthedClient* c) {
  long n = 0;
  for (std::string target = "/fhir/_history?_count=1000"; !target.empty();) {
    auto r = c->Get(target);
    auto doc = json::Parse(r.body);
    if (r.status != 200 || !doc.ok()) return -1;
    target.clear();
    if (const json::Value* links = doc->find("link"))
      for (const json::Value& l : links->items())
        if (l.get_string("relation") == "next") {
          const std::string url(l.get_string("url"));
          target = url.substr(url.find("/fhir/"));
        }
    const json::Value* entries = doc->find("entry");
    if (entries == nullptr) continue;
    for (const json::Value& e : entries->items()) {
      const json::Value* res = e.find("resource");
      const std::string type(res ? res->get_string("resourceType")
                                 : e.find("request")->get_string("url"));
      if (!type.starts_with("AuditEvent")) ++n;
    }
  }
  return n;
}

// The number in "sync NAME: ... KEY N" of a `sync run` output, or -1.
inline long SyncCount(const std::string& output, const std::string& source,
                      const std::string& key) {
  std::smatch m;
  const std::regex re("sync " + source + R"(: fetched \d+.*)" + "\\b" + key + R"( (\d+))");
  const std::regex first("sync " + source + R"(: fetched (\d+), applied)");
  if (key == "fetched") return std::regex_search(output, m, first) ? std::stol(m[1]) : -1;
  return std::regex_search(output, m, re) ? std::stol(m[1]) : -1;
}

inline std::filesystem::path TempDir(const std::string& what) {
  auto dir = std::filesystem::temp_directory_path() / ("medhub-" + what + "-" + NewId());
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::vector<std::string> SyntheaFiles() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDHUB_SHARED_DATA) + "/fhir/synthea"))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace medhub::synctest
