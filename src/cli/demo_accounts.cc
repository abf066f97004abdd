#include "cli/demo_accounts.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/hash.h"
#include "core/json.h"
#include "core/time.h"
#include "fhir/resource.h"
#include "fhir/search_query.h"
#include "security/accounts.h"
#include "security/role.h"

namespace medhub::cli {
namespace {

// 16 characters from an alphabet without look-alikes: about 80 bits.
std::string RandomPassword() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
  const std::string bytes = RandomBytes(16);
  std::string out;
  for (unsigned char b : bytes) out.push_back(kAlphabet[b % (sizeof(kAlphabet) - 1)]);
  return out;
}

Result<std::vector<std::string>> SearchIds(store::Store* store, std::string_view type,
                                           std::vector<std::pair<std::string, std::string>> q) {
  ASSIGN_OR_RETURN(fhir::SearchQuery query, fhir::ParseSearchQuery(type, q));
  return store->Search(query);
}

// The organizations that provided the patient's encounters, in encounter order.
Result<std::vector<std::string>> CaringOrganizations(store::Store* store,
                                                     const std::string& patient) {
  ASSIGN_OR_RETURN(std::vector<std::string> encounters,
                   SearchIds(store, "Encounter", {{"patient", patient}}));
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& id : encounters) keys.emplace_back("Encounter", id);
  std::vector<std::string> orgs;
  for (auto& r : store->ReadMany(keys)) {
    if (!r.ok() || r->deleted) continue;
    ASSIGN_OR_RETURN(json::Value doc, json::Parse(r->json));
    const json::Value* provider = doc.find("serviceProvider");
    if (provider == nullptr) continue;
    auto ref = fhir::ParseReference(provider->get_string("reference"));
    if (ref.ok() && ref->type == "Organization") orgs.push_back(ref->id);
  }
  return orgs;
}

std::filesystem::path PasswordFile(const std::string& data_dir) {
  return std::filesystem::path(data_dir) / "security" / "demo-accounts.tsv";
}

// username -> password, from an earlier run.
std::map<std::string, std::string> ReadPasswords(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

Status WritePasswords(const std::filesystem::path& file, const std::vector<DemoAccount>& accounts) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return Status::Unavailable("cannot create " + file.parent_path().string());
  const std::string tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& a : accounts) out << a.username << '\t' << a.password << '\n';
    if (!out) return Status::Unavailable("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Status::Unavailable("cannot write " + file.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::vector<DemoAccount>> EnsureDemoAccounts(store::Store* store,
                                                    const std::string& data_dir,
                                                    const std::string& patient_id) {
  ASSIGN_OR_RETURN(std::vector<std::string> caring, CaringOrganizations(store, patient_id));
  if (caring.empty())
    return Status::NotFound("Patient/" + patient_id + " has no encounter with a provider");
  const std::set<std::string> caring_set(caring.begin(), caring.end());
  ASSIGN_OR_RETURN(std::vector<std::string> all_orgs, SearchIds(store, "Organization", {}));
  std::string other;
  for (const auto& org : all_orgs)
    if (!caring_set.contains(org)) other = org;
  if (other.empty()) return Status::NotFound("no institution without a care relation");

  std::vector<DemoAccount> accounts = {
      {"patient", "patient", "", patient_id, "", "the patient with the largest record"},
      {"dr.caring", "practitioner", caring.front(), "", "",
       "a doctor at an institution that treated the patient"},
      {"dr.other", "practitioner", other, "", "", "a doctor at an institution that did not"},
      {"admin", "admin", caring.front(), "", "", "the admin of the caring institution"},
      {"auditor", "auditor", "", "", "", "reads the audit trail and the ledger"},
  };
  const std::filesystem::path file = PasswordFile(data_dir);
  const auto known = ReadPasswords(file);
  security::Accounts registry(store, {});
  bool created = false;
  for (DemoAccount& a : accounts) {
    auto existing = registry.Get(a.username);
    if (existing.ok()) {
      auto it = known.find(a.username);
      a.password = it == known.end() ? "(set in an earlier run)" : it->second;
      continue;
    }
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    a.password = RandomPassword();
    security::Account account;
    account.username = a.username;
    ASSIGN_OR_RETURN(account.role, security::ParseRole(a.role));
    account.organization = a.organization;
    account.patient = a.patient;
    RETURN_IF_ERROR(registry.Add(std::move(account), a.password, NowMicros()));
    created = true;
  }
  if (created) RETURN_IF_ERROR(WritePasswords(file, accounts));
  return accounts;
}

namespace {

void PrintAccounts(const DemoGuide& g, std::ostream& out) {
  out << "\nDemo accounts (passwords also in " << g.data_dir << "/security/demo-accounts.tsv):\n";
  for (const DemoAccount& a : g.accounts) {
    out << "  " << a.role << " account " << a.username << " / " << a.password << "  (" << a.note
        << (a.organization.empty() ? "" : ", Organization/" + a.organization)
        << (a.patient.empty() ? "" : ", Patient/" + a.patient) << ")\n";
  }
  out << "Get a token for an account (/fhir requires one), e.g.:\n";
  for (const DemoAccount& a : g.accounts) {
    out << "  TOKEN=$(" << g.curl << " -s -d grant_type=password -d username=" << a.username
        << " -d password=" << a.password << " " << g.url
        << "/auth/token | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')"
        << "   # " << a.role << "\n";
  }
  out << "A practitioner without a care relation may add the header "
         "'X-Break-Glass: <reason>' (allowed, audited, the patient is told).\n";
}

}  // namespace

void PrintDemoGuide(const DemoGuide& g, std::ostream& out) {
  // Every /fhir call but metadata needs a bearer token (docs/security.md).
  const std::string api = g.curl + " -H \"Authorization: Bearer $TOKEN\"";
  const std::string& p = g.patient;
  out << "\nmedhub is serving " << g.resources << " resources of " << g.patients
      << " patients from " << g.data_dir << "\n"
      << "Open " << g.url << "/ in a browser, or try:\n"
      << "  " << g.curl << " " << g.url << "/fhir/metadata\n";
  if (!g.accounts.empty()) PrintAccounts(g, out);
  out << "Then, with $TOKEN set:\n"
      << "  " << api << " '" << g.url << "/fhir/Patient?_count=5&_sort=-_lastUpdated'\n"
      << "  " << api << " '" << g.url << "/fhir/Observation?patient=" << p
      << "&code=http://loinc.org|29463-7&_sort=-date&_count=3'\n"
      << "  " << api << " '" << g.url << "/fhir/Condition?patient=" << p
      << "&_include=Condition:patient'\n"
      << "  " << api << " '" << g.url << "/fhir/AuditEvent?patient=" << p << "'\n"
      << "  " << api << " '" << g.url << "/fhir/Patient/" << p << "/_history/1/$verify'\n"
      << "  " << g.curl << " " << g.url << "/ledger/head\n"
      << "  " << api << " '" << g.url << "/fhir/Patient/" << p << "/$everything'\n";
  out << "Stop with Ctrl-C.\n" << std::endl;
}

}  // namespace medhub::cli
