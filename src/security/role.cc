#include "security/role.h"

#include <string>

#include "core/ids.h"

namespace medhub::security {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPatient:
      return "patient";
    case Role::kPractitioner:
      return "practitioner";
    case Role::kAdmin:
      return "admin";
    case Role::kAuditor:
      return "auditor";
    case Role::kDevice:
      return "device";
    case Role::kService:
      return "service";
  }
  return "?";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r :
       {Role::kPatient, Role::kPractitioner, Role::kAdmin, Role::kAuditor, Role::kDevice,
        Role::kService}) {
    if (RoleName(r) == name) return r;
  }
  return Status::InvalidArgument("unknown role '" + std::string(name.substr(0, 40)) +
                                 "' (expected patient, practitioner, admin, auditor, device or service)");
}

namespace {

// Which attribute a role needs (kRequired), may carry (kOptional) or must not (kForbidden).
enum class Need { kForbidden, kOptional, kRequired };
struct Needs {
  Need organization, patient, device;
};

Needs NeedsOf(Role role) {
  using enum Need;
  switch (role) {
    case Role::kPatient:
      return {kForbidden, kRequired, kForbidden};
    case Role::kPractitioner:
      return {kRequired, kForbidden, kForbidden};
    case Role::kAdmin:
      return {kRequired, kForbidden, kForbidden};
    case Role::kAuditor:
      return {kOptional, kForbidden, kForbidden};
    case Role::kDevice:
      return {kOptional, kRequired, kRequired};
    case Role::kService:
      return {kRequired, kForbidden, kForbidden};
  }
  return {kForbidden, kForbidden, kForbidden};
}

Status CheckOne(Role role, std::string_view what, std::string_view value, Need need) {
  const std::string who = "a " + std::string(RoleName(role)) + " ";
  if (need == Need::kRequired && value.empty())
    return Status::InvalidArgument(who + "needs " + std::string(what) + " id");
  if (need == Need::kForbidden && !value.empty())
    return Status::InvalidArgument(who + "cannot have " + std::string(what) + " id");
  if (!value.empty() && !IsValidFhirId(value))
    return Status::InvalidArgument(std::string(what) + " id '" + std::string(value.substr(0, 70)) +
                                   "' is not a valid FHIR id");
  return Status::Ok();
}

}  // namespace

Status CheckRoleAttributes(Role role, const RoleAttributes& attributes) {
  const Needs needs = NeedsOf(role);
  RETURN_IF_ERROR(CheckOne(role, "an organization", attributes.organization, needs.organization));
  RETURN_IF_ERROR(CheckOne(role, "a patient", attributes.patient, needs.patient));
  return CheckOne(role, "a device", attributes.device, needs.device);
}

}  // namespace medhub::security
