#include "security/scope.h"

#include <array>
#include <optional>

#include "fhir/resource_types.h"

namespace medhub::security {
namespace {

constexpr uint8_t kReadBit = static_cast<uint8_t>(Action::kRead);
constexpr uint8_t kWriteBit = static_cast<uint8_t>(Action::kWrite);
constexpr uint8_t kAllAccess = kReadBit | kWriteBit;

std::string_view ContextName(ScopeContext c) {
  switch (c) {
    case ScopeContext::kPatient:
      return "patient";
    case ScopeContext::kUser:
      return "user";
    case ScopeContext::kSystem:
      return "system";
  }
  return "?";
}

std::string_view AccessName(uint8_t access) {
  return access == kAllAccess ? "*" : access == kReadBit ? "read" : "write";
}

Status Malformed(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("malformed scope '" + std::string(text.substr(0, 80)) +
                                 "': " + std::string(why));
}

// `a` grants everything `b` does.
bool Covers(const Scope& a, const Scope& b) {
  if (a.kind != b.kind) return false;
  if (a.kind != Scope::Kind::kResource) return true;
  return a.context == b.context && (a.resource_type == "*" || a.resource_type == b.resource_type) &&
         (a.access & b.access) == b.access;
}

Scope Resource(ScopeContext context, std::string type, uint8_t access) {
  return Scope{Scope::Kind::kResource, context, std::move(type), access};
}

}  // namespace

std::string Scope::ToString() const {
  switch (kind) {
    case Kind::kOfflineAccess:
      return "offline_access";
    case Kind::kOnlineAccess:
      return "online_access";
    case Kind::kResource:
      break;
  }
  return std::string(ContextName(context)) + "/" + resource_type + "." +
         std::string(AccessName(access));
}

Result<Scope> ParseScope(std::string_view text) {
  if (text == "offline_access") return Scope{Scope::Kind::kOfflineAccess};
  if (text == "online_access") return Scope{Scope::Kind::kOnlineAccess};
  Scope s;
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Malformed(text, "expected context/type.access");
  const std::string_view context = text.substr(0, slash);
  if (context == "patient") {
    s.context = ScopeContext::kPatient;
  } else if (context == "user") {
    s.context = ScopeContext::kUser;
  } else if (context == "system") {
    s.context = ScopeContext::kSystem;
  } else {
    return Malformed(text, "the context must be patient, user or system");
  }
  const std::string_view rest = text.substr(slash + 1);
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos)
    return Malformed(text, "expected type.access after the context");
  const std::string_view type = rest.substr(0, dot), access = rest.substr(dot + 1);
  if (type != "*" && !fhir::IsKnownResourceType(type))
    return Malformed(text, "not a FHIR R4 resource type or *");
  if (access == "read") {
    s.access = kReadBit;
  } else if (access == "write") {
    s.access = kWriteBit;
  } else if (access == "*") {
    s.access = kAllAccess;
  } else {
    return Malformed(text, "the access must be read, write or *");
  }
  s.resource_type = std::string(type);
  return s;
}

Result<std::vector<Scope>> ParseScopes(std::string_view text) {
  std::vector<Scope> out;
  if (text.empty()) return out;
  if (text.size() > kMaxScopeStringBytes)
    return Status::InvalidArgument("scope string longer than " +
                                   std::to_string(kMaxScopeStringBytes) + " bytes");
  while (true) {
    const size_t sp = text.find(' ');
    const std::string_view token = text.substr(0, sp);
    if (token.empty()) return Status::InvalidArgument("scope string has an empty scope token");
    if (out.size() == kMaxScopes)
      return Status::InvalidArgument("more than " + std::to_string(kMaxScopes) + " scopes");
    ASSIGN_OR_RETURN(Scope s, ParseScope(token));
    out.push_back(std::move(s));
    if (sp == std::string_view::npos) break;
    text.remove_prefix(sp + 1);
  }
  return out;
}

std::string FormatScopes(const std::vector<Scope>& scopes) {
  std::string out;
  for (const Scope& s : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += s.ToString();
  }
  return out;
}

bool Allows(const std::vector<Scope>& scopes, std::string_view resource_type, Action action,
            ScopeContext context) {
  const Scope wanted = Resource(context, std::string(resource_type), static_cast<uint8_t>(action));
  for (const Scope& s : scopes) {
    if (Covers(s, wanted)) return true;
  }
  return false;
}

ContextSet AllowedContexts(const std::vector<Scope>& scopes, std::string_view resource_type,
                           Action action) {
  ContextSet c;
  c.patient = Allows(scopes, resource_type, action, ScopeContext::kPatient);
  c.user = Allows(scopes, resource_type, action, ScopeContext::kUser);
  c.system = Allows(scopes, resource_type, action, ScopeContext::kSystem);
  return c;
}

std::optional<Scope> Intersect(const Scope& a, const Scope& b) {
  if (a.kind != b.kind) return std::nullopt;
  if (a.kind != Scope::Kind::kResource) return a;
  if (a.context != b.context) return std::nullopt;
  const uint8_t access = a.access & b.access;
  if (access == 0) return std::nullopt;
  if (a.resource_type == "*") return Resource(a.context, b.resource_type, access);
  if (b.resource_type == "*" || a.resource_type == b.resource_type)
    return Resource(a.context, a.resource_type, access);
  return std::nullopt;
}

std::vector<Scope> Narrow(const std::vector<Scope>& requested, const std::vector<Scope>& allowed) {
  std::vector<Scope> candidates;
  for (const Scope& r : requested) {
    for (const Scope& a : allowed) {
      if (std::optional<Scope> i = Intersect(r, a)) candidates.push_back(std::move(*i));
    }
  }
  // Keep a candidate unless another one covers it (of equal ones, the first).
  std::vector<Scope> out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    bool covered = false;
    for (size_t j = 0; j < candidates.size() && !covered; ++j) {
      if (i == j || !Covers(candidates[j], candidates[i])) continue;
      covered = !(candidates[j] == candidates[i]) || j < i;
    }
    if (!covered) out.push_back(candidates[i]);
  }
  return out;
}

const std::vector<Scope>& RoleScopes(Role role) {
  static const std::array<std::vector<Scope>, kRoleCount> kTables = [] {
    using enum ScopeContext;
    const Scope offline{Scope::Kind::kOfflineAccess};
    std::array<std::vector<Scope>, kRoleCount> t;
    t[static_cast<size_t>(Role::kPatient)] = {
        Resource(kPatient, "*", kReadBit), Resource(kPatient, "Consent", kWriteBit),
        Resource(kPatient, "Observation", kWriteBit), offline};
    t[static_cast<size_t>(Role::kPractitioner)] = {Resource(kUser, "*", kAllAccess), offline};
    auto& admin = t[static_cast<size_t>(Role::kAdmin)];
    for (const char* type : {"Organization", "Practitioner", "PractitionerRole", "Location",
                             "Device", "Endpoint", "HealthcareService"}) {
      admin.push_back(Resource(kUser, type, kAllAccess));
    }
    admin.push_back(offline);
    t[static_cast<size_t>(Role::kAuditor)] = {Resource(kUser, "AuditEvent", kReadBit), offline};
    t[static_cast<size_t>(Role::kDevice)] = {Resource(kPatient, "Observation", kWriteBit),
                                             Resource(kPatient, "Device", kReadBit)};
    // A service acts across patients (sync pulls an institution's whole _history); the
    // operator registers each service client with the system scopes it needs, usually
    // system/*.read (docs/security.md, "Policy rules").
    t[static_cast<size_t>(Role::kService)] = {Resource(kSystem, "*", kAllAccess)};
    return t;
  }();
  return kTables[static_cast<size_t>(role)];
}

std::vector<Scope> NarrowToRole(const std::vector<Scope>& requested, Role role) {
  return Narrow(requested, RoleScopes(role));
}

}  // namespace medhub::security
