// The roles of medhub's principals (ARCHITECTURE.md, "People and their jobs").
//
// A role fixes which attributes an account must carry: a patient account names its
// Patient; a practitioner and an institution admin their Organization; a device its Device
// and the Patient it is bound to. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace medhub::security {

// kService is a system-to-system client: another institution's medhub node pulling this
// node's changes (sync), or a back-end job of the operator. It acts for its Organization.
enum class Role : uint8_t { kPatient, kPractitioner, kAdmin, kAuditor, kDevice, kService };
inline constexpr size_t kRoleCount = 6;

// "patient", "practitioner", "admin", "auditor", "device", "service".
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
