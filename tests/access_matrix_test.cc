// Runs the access-control matrix (tests/data/access_matrix.tsv) against the real `medhub
// serve` binary over HTTP with real tokens: every row is one request whose status and
// body checks must hold. Then checks that every request left an AuditEvent.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "support/secure_server.h"

namespace medhub {
namespace {

struct Row {
  int line = 0;
  std::vector<std::string> cells;  // principal resource relation action method path body
                                   // expect check
};

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<Row> ReadMatrix(const std::string& path) {
  std::ifstream in(path);
  std::vector<Row> rows;
  std::string text;
  int line = 0;
  bool header = true;
  while (std::getline(in, text)) {
    ++line;
    if (text.empty() || text[0] == '#') continue;
    if (header) {  // the column names
      header = false;
      continue;
    }
    rows.push_back({line, SplitOn(text, '\t')});
  }
  return rows;
}

int64_t Total(const std::string& body) {
  auto doc = json::Parse(body);
  if (!doc.ok() || doc->find("total") == nullptr) return -1;
  return doc->find("total")->as_int().value_or(-1);
}

// Checks one "total=N", "total>=N", "has=TEXT" or "lacks=TEXT"; "" when it holds.
std::string Check(const std::string& check, const std::string& body) {
  if (check.starts_with("total>=")) {
    const int64_t want = std::stoll(check.substr(7));
    return Total(body) >= want ? "" : "total " + std::to_string(Total(body)) + " < " + check;
  }
  if (check.starts_with("total=")) {
    const int64_t want = std::stoll(check.substr(6));
    return Total(body) == want ? "" : "total is " + std::to_string(Total(body));
  }
  if (check.starts_with("has="))
    return body.find(check.substr(4)) != std::string::npos ? "" : "missing";
  if (check.starts_with("lacks="))
    return body.find(check.substr(6)) == std::string::npos ? "" : "present";
  return "unknown check";
}

TEST(AccessMatrixTest, EveryRoleGetsExactlyWhatTheMatrixAllowsOnEveryPathAndIsAudited) {
  const std::vector<Row> rows = ReadMatrix(MEDHUB_TEST_DATA "/access_matrix.tsv");
  ASSERT_GT(rows.size(), 100u);
  testing::SecureServer server(MEDHUB_BINARY, MEDHUB_TEST_DATA "/access_fixture.ndjson");
  const std::string started = server.Start();
  ASSERT_EQ(started, "");
  size_t allowed = 0, denied = 0;
  for (const Row& row : rows) {
    ASSERT_EQ(row.cells.size(), 9u) << "line " << row.line;
    const std::string& principal = row.cells[0];
    std::string method = row.cells[4];
    const std::string& path = row.cells[5];
    const std::string body = row.cells[6] == "-" ? "" : row.cells[6];
    const int expect = std::stoi(row.cells[7]);
    std::vector<std::pair<std::string, std::string>> headers;
    if (method.ends_with("!BG")) {
      method.resize(method.size() - 3);
      headers.emplace_back("X-Break-Glass", "emergency: unconscious patient in the ER");
    }
    if (method == "POST:form") {
      method = "POST";
      headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    }
    ASSERT_FALSE(server.Token(principal).empty()) << "line " << row.line << ": " << principal;
    auto client = server.Client(principal);
    const auto r = client->Send(method, path, body, headers);
    const std::string where =
        "line " + std::to_string(row.line) + ": " + principal + " " + row.cells[4] + " " + path;
    EXPECT_EQ(r.status, expect) << where << "\n" << r.body.substr(0, 600);
    (r.status < 300 ? allowed : denied)++;
    if (row.cells[8] != "-") {
      for (const std::string& check : SplitOn(row.cells[8], ';')) {
        const std::string failed = Check(check, r.body);
        EXPECT_EQ(failed, "") << where << " check " << check << "\n" << r.body.substr(0, 600);
      }
    }
  }
  EXPECT_GT(allowed, 30u);
  EXPECT_GT(denied, 30u);
  // Every request above, allowed or denied, wrote an AuditEvent.
  auto auditor = server.Client("auditor");
  const auto count = auditor->Get("/fhir/AuditEvent?_summary=count");
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_GE(Total(count.body), static_cast<int64_t>(rows.size()));
}

}  // namespace
}  // namespace medhub
