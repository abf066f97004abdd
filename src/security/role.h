// The roles of medhub's principals (ARCHITECTURE.md, "People and their jobs").
//
// A role fixes which attributes an account must carry: a patient account names its
// Patient; a practitioner and an institution admin their Organization; a device its Device
// and the Patient it is bound to. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace medhub::security {

enum class Role : uint8_t { kPatient, kPractitioner, kAdmin, kAuditor, kDevice };

// "patient", "practitioner", "admin", "auditor", "device".
std::string_view RoleName(Role role);
// The inverse of RoleName. Errors: InvalidArgument naming the accepted roles.
Result<Role> ParseRole(std::string_view name);

// The attributes of a principal that policy reads; empty when not applicable.
struct RoleAttributes {
  std::string_view organization;  // Organization id
  std::string_view patient;       // Patient id
  std::string_view device;        // Device id
};

// OK when `attributes` suit `role`: the required ids are present, no id is given that the
// role cannot have, and every id is a valid FHIR id. Errors: InvalidArgument.
Status CheckRoleAttributes(Role role, const RoleAttributes& attributes);

}  // namespace medhub::security
