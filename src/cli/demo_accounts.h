// The accounts `medhub demo` creates so that every role can be tried at once.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace medhub::cli {

struct DemoAccount {
  std::string username;
  std::string role;          // "patient", "practitioner", "admin", "auditor"
  std::string organization;  // Organization id, for practitioners and admins
  std::string patient;       // Patient id, for the patient
  std::string password;
  std::string note;  // what the account is for
};

// Creates, once per data directory, the patient account of `patient_id`, a doctor at an
// institution that has treated that patient (an Encounter's serviceProvider), a doctor at
// an institution that has not, an institution admin and an auditor. Passwords are random;
// they are kept in DATA/security/demo-accounts.tsv (mode 0600) so that a second run of the
// demo prints the same ones. Errors: NotFound when the patient has no encounters or there
// is no second institution; the store's errors.
Result<std::vector<DemoAccount>> EnsureDemoAccounts(store::Store* store,
                                                    const std::string& data_dir,
                                                    const std::string& patient_id);

// What `medhub demo` tells its user once it serves: where, the accounts, how to get a
// token for each, and requests to try on the sample's largest patient.
struct DemoGuide {
  std::string url;   // the served base URL
  std::string curl;  // "curl", or "curl --cacert CERT" for the self-signed HTTPS
  std::string data_dir;
  size_t resources = 0;
  size_t patients = 0;
  std::string patient;  // the id the example requests use
  std::vector<DemoAccount> accounts;
};

void PrintDemoGuide(const DemoGuide& guide, std::ostream& out);

}  // namespace medhub::cli
