#include "fhir/resource.h"

#include <array>

#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource_types.h"

namespace medhub::fhir {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Walks a resource once. The element path of the current position is kept in one buffer
// that grows and shrinks with the walk (PathSegment), so valid input allocates no paths.
class Validator {
 public:
  Status Resource(const json::Value& r) {
    if (!r.is_object()) {
      return path_.empty() ? Status::InvalidArgument("a resource must be a JSON object")
                           : Bad("a resource must be a JSON object");
    }
    const json::Value* type = r.find("resourceType");
    const std::string where = path_.empty() ? "" : path_ + ": ";
    if (type == nullptr || !type->is_string())
      return Status::InvalidArgument(where + "missing resourceType");
    if (!IsKnownResourceType(type->text()))
      return Status::InvalidArgument(where + "unknown resourceType '" + type->text().substr(0, 64) +
                                     "'");
    // A top-level resource's path starts with its type; a nested one keeps its location.
    const size_t saved = path_.size();
    if (path_.empty()) path_ = type->text();
    Status s = ResourceBody(type->text(), r);
    path_.resize(saved);
    return s;
  }

 private:
  // Appends ".key" or "[i]" to the path for the lifetime of the object.
  class PathSegment {
   public:
    PathSegment(std::string* path, std::string_view key) : path_(path), size_(path->size()) {
      path_->push_back('.');
      path_->append(key);
    }
    PathSegment(std::string* path, size_t index) : path_(path), size_(path->size()) {
      path_->push_back('[');
      path_->append(std::to_string(index));
      path_->push_back(']');
    }
    ~PathSegment() { path_->resize(size_); }

   private:
    std::string* path_;
    size_t size_;
  };

  Status Bad(std::string_view problem) const {
    return ErrorAt(StatusCode::kUnprocessable, path_, problem);
  }
  Status BadAt(std::string_view key, std::string_view problem) {
    PathSegment seg(&path_, key);
    return Bad(problem);
  }

  Status ResourceBody(std::string_view type, const json::Value& r) {
    if (const json::Value* id = r.find("id")) {
      if (!id->is_string() || !IsValidFhirId(id->text()))
        return BadAt("id", "an id is 1-64 characters of A-Z, a-z, 0-9, '-' and '.'");
    }
    if (const json::Value* meta = r.find("meta")) {
      PathSegment seg(&path_, "meta");
      if (!meta->is_object()) return Bad("expected an object");
      if (const json::Value* v = meta->find("versionId");
          v && (!v->is_string() || !IsValidFhirId(v->text())))
        return BadAt("versionId", "expected an id");
      if (const json::Value* v = meta->find("lastUpdated")) {
        PathSegment last(&path_, "lastUpdated");
        RETURN_IF_ERROR(Date(*v, DateKind::kInstant));
      }
    }
    RETURN_IF_ERROR(TypeRules(type, r));
    for (const auto& [key, value] : r.members()) {
      if (key == "resourceType") continue;
      PathSegment seg(&path_, key);
      RETURN_IF_ERROR(Element(key, value));
    }
    return Status::Ok();
  }

  Status Required(const json::Value& r, std::string_view key) {
    if (r.find(key) == nullptr) return BadAt(key, "is required");
    return Status::Ok();
  }

  Status Code(const json::Value& r, std::string_view key,
              std::initializer_list<std::string_view> allowed) {
    const json::Value* v = r.find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return BadAt(key, "expected a code (string)");
    for (auto a : allowed)
      if (a == v->text()) return Status::Ok();
    return BadAt(key, "'" + v->text().substr(0, 64) + "' is not an allowed code");
  }

  Status DateAt(const json::Value& r, std::string_view key, DateKind kind) {
    const json::Value* v = r.find(key);
    if (v == nullptr) return Status::Ok();
    PathSegment seg(&path_, key);
    return Date(*v, kind);
  }

  // Rules for the elements that medhub indexes or reasons about, per resource type.
  Status TypeRules(std::string_view type, const json::Value& r) {
    if (type == "Patient") {
      RETURN_IF_ERROR(Code(r, "gender", {"male", "female", "other", "unknown"}));
      RETURN_IF_ERROR(DateAt(r, "birthDate", DateKind::kDate));
    } else if (type == "Observation") {
      RETURN_IF_ERROR(Required(r, "status"));
      RETURN_IF_ERROR(Required(r, "code"));
      RETURN_IF_ERROR(Code(r, "status",
                           {"registered", "preliminary", "final", "amended", "corrected",
                            "cancelled", "entered-in-error", "unknown"}));
      RETURN_IF_ERROR(DateAt(r, "issued", DateKind::kInstant));
    } else if (type == "Encounter") {
      RETURN_IF_ERROR(Required(r, "status"));
      RETURN_IF_ERROR(Required(r, "class"));
    } else if (type == "Condition" || type == "Procedure") {
      RETURN_IF_ERROR(Required(r, "subject"));
    } else if (type == "MedicationRequest") {
      RETURN_IF_ERROR(Required(r, "status"));
      RETURN_IF_ERROR(Required(r, "intent"));
      RETURN_IF_ERROR(Required(r, "subject"));
    }
    return Status::Ok();
  }

  Status Date(const json::Value& v, DateKind kind) {
    if (!v.is_string()) return Bad("expected a date string");
    auto r = ParseFhirDate(v.text(), kind);
    if (!r.ok()) return Bad(r.status().message());
    return Status::Ok();
  }

  Status Period(const json::Value& v) {
    if (!v.is_object()) return Bad("expected a Period object");
    RETURN_IF_ERROR(DateAt(v, "start", DateKind::kDateTime));
    return DateAt(v, "end", DateKind::kDateTime);
  }

  Status Quantity(const json::Value& v) {
    if (!v.is_object()) return Bad("expected a Quantity object");
    if (const json::Value* n = v.find("value"); n && !n->is_number())
      return BadAt("value", "expected a number");
    for (std::string_view k : {"unit", "system", "code", "comparator"})
      if (const json::Value* s = v.find(k); s && !s->is_string())
        return BadAt(k, "expected a string");
    return Status::Ok();
  }

  Status Codings(const json::Value& v) {
    if (!v.is_array()) return Bad("expected an array of Coding");
    for (size_t i = 0; i < v.items().size(); ++i) {
      const json::Value& c = v.items()[i];
      PathSegment seg(&path_, i);
      if (!c.is_object()) return Bad("expected a Coding object");
      for (std::string_view k : {"system", "version", "code", "display"})
        if (const json::Value* s = c.find(k); s && !s->is_string())
          return BadAt(k, "expected a string");
    }
    return Status::Ok();
  }

  // Generic rules that hold for every element, plus the typed ones chosen by name. The
  // path already ends with `key`.
  Status Element(std::string_view key, const json::Value& v) {
    RETURN_IF_ERROR(NotEmpty(v));
    if (key == "coding") RETURN_IF_ERROR(Codings(v));
    if (key == "contained") {
      if (!v.is_array()) return Bad("expected an array of resources");
      for (size_t i = 0; i < v.items().size(); ++i) {
        PathSegment seg(&path_, i);
        RETURN_IF_ERROR(Resource(v.items()[i]));
      }
      return Status::Ok();
    }
    if (!v.is_array()) return Single(key, v);
    for (size_t i = 0; i < v.items().size(); ++i) {
      const json::Value& item = v.items()[i];
      if (item.is_null()) continue;  // allowed: aligns primitive arrays with their _ twins
      PathSegment seg(&path_, i);
      if (item.is_array()) return Bad("arrays of arrays are not allowed");
      RETURN_IF_ERROR(NotEmpty(item));
      RETURN_IF_ERROR(Single(key, item));
    }
    return Status::Ok();
  }

  Status NotEmpty(const json::Value& v) const {
    switch (v.kind()) {
      case json::Kind::kNull:
        return Bad("null is not allowed (omit the element instead)");
      case json::Kind::kString:
        if (v.text().empty()) return Bad("empty strings are not allowed");
        break;
      case json::Kind::kArray:
        if (v.items().empty()) return Bad("empty arrays are not allowed");
        break;
      case json::Kind::kObject:
        if (v.members().empty()) return Bad("empty objects are not allowed");
        break;
      default:
        break;
    }
    return Status::Ok();
  }

  // One (non-array) value of element `key`.
  Status Single(std::string_view key, const json::Value& v) {
    if (key == "reference" && !v.is_object()) {  // an object is a Reference-typed element
      if (!v.is_string()) return Bad("expected a reference string");
      if (auto ref = ParseReference(v.text()); !ref.ok()) return Bad(ref.status().message());
    } else if (EndsWith(key, "DateTime")) {
      RETURN_IF_ERROR(Date(v, DateKind::kDateTime));
    } else if (EndsWith(key, "Instant")) {
      RETURN_IF_ERROR(Date(v, DateKind::kInstant));
    } else if (EndsWith(key, "Period") || (key == "period" && v.is_object())) {
      RETURN_IF_ERROR(Period(v));
    } else if (EndsWith(key, "Quantity")) {
      RETURN_IF_ERROR(Quantity(v));
    } else if (key == "resource" && v.is_object() && v.find("resourceType")) {
      return Resource(v);
    }
    if (v.is_object()) {
      for (const auto& [k, child] : v.members()) {
        PathSegment seg(&path_, k);
        RETURN_IF_ERROR(Element(k, child));
      }
    }
    return Status::Ok();
  }

  std::string path_;
};

}  // namespace

Status ErrorAt(StatusCode code, std::string_view path, std::string_view problem) {
  std::string msg(path);
  msg += ": ";
  msg += problem;
  switch (code) {
    case StatusCode::kInvalidArgument:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::Unprocessable(std::move(msg));
  }
}

std::string ErrorPath(const Status& status) {
  const std::string& m = status.message();
  const size_t colon = m.find(": ");
  if (colon == std::string::npos || colon == 0) return "";
  std::string_view head(m.data(), colon);
  // A path starts with a resource type (an upper-case letter) and has no spaces.
  if (!(head[0] >= 'A' && head[0] <= 'Z') || head.find(' ') != std::string_view::npos) return "";
  return std::string(head);
}

Status ValidateResource(const json::Value& resource) { return Validator().Resource(resource); }

Result<json::Value> ParseResource(std::string_view body) {
  json::ParseOptions opts;
  opts.reject_duplicate_keys = true;
  auto parsed = json::Parse(body, opts);
  if (!parsed.ok()) return parsed.status().WithPrefix("malformed JSON");
  RETURN_IF_ERROR(ValidateResource(*parsed));
  return parsed;
}

Result<Reference> ParseReference(std::string_view text) {
  Reference ref;
  ref.text = std::string(text);
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("invalid reference '" + std::string(text.substr(0, 80)) +
                                   "': " + why);
  };
  if (text.empty()) return bad("empty");
  for (char c : text)
    if (static_cast<unsigned char>(c) <= ' ') return bad("contains whitespace");
  if (text[0] == '#') {
    ref.kind = Reference::Kind::kContained;
    ref.id = std::string(text.substr(1));
    return ref;
  }
  if (text.starts_with("urn:uuid:") || text.starts_with("urn:oid:")) {
    ref.kind = Reference::Kind::kUrn;
    if (text.size() <= 9) return bad("empty urn");
    return ref;
  }
  std::string_view rest = text;
  if (text.starts_with("http://") || text.starts_with("https://")) {
    ref.kind = Reference::Kind::kAbsolute;
  }
  // Take the trailing "Type/id[/_history/v]" of the path.
  std::string_view version;
  if (size_t h = rest.rfind("/_history/"); h != std::string_view::npos) {
    version = rest.substr(h + 10);
    rest = rest.substr(0, h);
    if (!IsValidFhirId(version)) return bad("invalid version id");
  }
  const size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos) {
    if (ref.kind == Reference::Kind::kAbsolute) return ref;  // some other URL: keep as is
    return bad("expected Type/id");
  }
  std::string_view id = rest.substr(slash + 1);
  std::string_view before = rest.substr(0, slash);
  std::string_view type =
      before.substr(before.rfind('/') == std::string_view::npos ? 0 : before.rfind('/') + 1);
  if (!IsKnownResourceType(type) || !IsValidFhirId(id)) {
    if (ref.kind == Reference::Kind::kAbsolute) return ref;  // not a FHIR URL we can resolve
    return bad("expected ResourceType/id with a known type and a valid id");
  }
  if (ref.kind == Reference::Kind::kRelative && before != type) return bad("expected Type/id");
  ref.type = std::string(type);
  ref.id = std::string(id);
  ref.version = std::string(version);
  return ref;
}

json::Value MakeCoding(std::string_view system, std::string_view code, std::string_view display) {
  json::Value c = json::Value::Object();
  c.set("system", json::Value::String(std::string(system)));
  c.set("code", json::Value::String(std::string(code)));
  c.set("display", json::Value::String(std::string(display)));
  return c;
}

}  // namespace medhub::fhir
