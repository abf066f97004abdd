// HL7 v2 over MLLP end to end: the real `medhub serve --mllp-port 0`, every message of the
// shared corpus (../shared/data/hl7v2) sent on one MLLP connection. Each must get the ACK
// listed in src/ingest/testdata/hl7v2_expected.tsv; the resources of accepted messages are
// then readable over the FHIR API, and refused messages leave the change history as it was.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "core/json.h"
#include "ingest/er7.h"
#include "ingest/hl7_mapper.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/tokens.h"

namespace medhub {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MllpConnection {
 public:
  explicit MllpConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~MllpConnection() { close(fd_); }
  bool ok() const { return ok_; }
  // Sends one framed message and returns the framed reply's content ("" on failure).
  std::string Exchange(const std::string& message) {
    const std::string frame = "\x0b" + message + "\x1c\r";
    if (send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size()))
      return "";
    while (true) {
      const size_t end = buffer_.find("\x1c\r");
      if (end != std::string::npos) {
        std::string reply = buffer_.substr(1, end - 1);
        buffer_.erase(0, end + 2);
        return reply;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 30000) <= 0) return "";
      char buf[8192];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string buffer_;
};

std::map<std::string, std::string> ExpectedAcks() {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadFile(MEDHUB_INGEST_TESTDATA "/hl7v2_expected.tsv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string key, ack;
    f >> key >> ack;
    out[key] = ack;
  }
  return out;
}

// Bearer token for FHIR reads (required once security is enforced on /fhir).
std::vector<std::pair<std::string, std::string>> auth_headers;

// Versions of the types an HL7 message can write. Not the system history: every request,
// this one included, adds an AuditEvent there.
int HistoryTotal(testing::HttpClient* c) {
  int total = 0;
  for (const char* type : {"Patient", "Encounter", "Observation", "DiagnosticReport"}) {
    auto r = c->Send("GET", std::string("/fhir/") + type + "/_history?_count=1", "", auth_headers);
    auto doc = json::Parse(r.body);
    if (r.status != 200 || !doc.ok() || !doc->find("total")) return -1;
    total += static_cast<int>(*doc->find("total")->as_int());
  }
  return total;
}

// HistoryTotal once two reads 20 ms apart agree: a version becomes visible in history when
// the change feed publishes it, which may trail the ACK of its message by a moment.
int SettledHistoryTotal(testing::HttpClient* c) {
  int last = HistoryTotal(c);
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int now = HistoryTotal(c);
    if (now == last) return now;
    last = now;
  }
  return last;
}

TEST(MllpE2e, EverySharedHl7MessageIsAnsweredAndAcceptedOnesAreReadableOverFhir) {
  const fs::path dir = fs::temp_directory_path() / ("medhub-mllp-" + NewId());
  const std::string secret = testing::AddClient(MEDHUB_BINARY, dir.string(), "e2e-reader",
                                                "service", "system/*.read", {"--org", "e2e"});
  ASSERT_FALSE(secret.empty());
  testing::ChildProcess server(
      {MEDHUB_BINARY, "serve", "--data", dir.string(), "--port", "0", "--mllp-port", "0"});
  const std::string mllp_line = server.ReadLineContaining("mllp listening on", 30s);
  ASSERT_FALSE(mllp_line.empty()) << server.output();
  const int mllp_port = std::stoi(mllp_line.substr(mllp_line.rfind(' ') + 1));
  const uint16_t http_port = static_cast<uint16_t>(
      testing::PortFromListeningLine(server.ReadLineContaining("listening on", 30s)));
  ASSERT_NE(http_port, 0);
  testing::HttpClient http("127.0.0.1", http_port);
  const std::string token = testing::ClientToken(http, "e2e-reader", secret);
  ASSERT_FALSE(token.empty());
  auth_headers = {{"Authorization", "Bearer " + token}};
  MllpConnection mllp(mllp_port);
  ASSERT_TRUE(mllp.ok());
  const auto expected = ExpectedAcks();
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(MEDHUB_SHARED_DATA "/hl7v2"))
    if (e.is_regular_file() && e.path().extension() != ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  size_t sent = 0, accepted = 0;
  std::set<std::string> hl7_patients;
  for (const fs::path& file : files) {
    const auto messages = ingest::hl7::SplitMessages(ReadFile(file));
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string key = file.parent_path().filename().string() + "/" +
                              file.filename().string() + "#" + std::to_string(i);
      SCOPED_TRACE(key);
      const int before = SettledHistoryTotal(&http);
      const std::string reply = mllp.Exchange(messages[i]);
      ++sent;
      auto ack = ingest::hl7::Parse(reply);
      ASSERT_TRUE(ack.ok()) << "no ACK: '" << reply << "'";
      ASSERT_NE(ack->Find("MSA"), nullptr);
      const std::string code = ack->Get(*ack->Find("MSA"), 1);
      ASSERT_TRUE(expected.contains(key));
      EXPECT_EQ(code, expected.at(key)) << reply;
      if (code != "AA") {
        EXPECT_EQ(SettledHistoryTotal(&http), before) << "a refused message changed the store";
        continue;
      }
      ++accepted;
      auto mapped = ingest::hl7::MapMessage(*ingest::hl7::Parse(messages[i]));
      ASSERT_TRUE(mapped.ok());
      for (const json::Value& r : mapped->resources)
        if (r.get_string("resourceType") == "Patient")
          hl7_patients.insert(std::string(r.get_string("id")));
      for (const json::Value& r : mapped->resources) {
        auto got = http.Send("GET",
                             "/fhir/" + std::string(r.get_string("resourceType")) + "/" +
                                 std::string(r.get_string("id")),
                             "", auth_headers);
        EXPECT_EQ(got.status, 200) << r.get_string("resourceType") << "/" << r.get_string("id");
      }
    }
  }
  EXPECT_EQ(sent, expected.size());
  EXPECT_GT(accepted, 60u);
  EXPECT_GT(HistoryTotal(&http), 60);  // the history count the refusals were checked with
  // Every message is in the audit trail as an import from the MLLP peer, naming its patient.
  ASSERT_FALSE(hl7_patients.empty());
  const std::string patient = *hl7_patients.begin();
  auto trail = http.Send("GET", "/fhir/AuditEvent?patient=Patient/" + patient, "", auth_headers);
  ASSERT_EQ(trail.status, 200) << trail.body;
  EXPECT_NE(trail.body.find("\"110107\""), std::string::npos) << trail.body;
  EXPECT_NE(trail.body.find("medhub MLLP listener"), std::string::npos);
  EXPECT_NE(trail.body.find("127.0.0.1"), std::string::npos);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(30s), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace medhub
