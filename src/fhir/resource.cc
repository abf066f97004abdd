#include "fhir/resource.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/time.h"
#include "fhir/resource_types.h"

namespace medhub::fhir {
namespace {

const char* CheckReference(std::string_view text, ReferenceView* ref);
Status BadReference(std::string_view text, const char* why);

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Walks a resource once. The element path of the current position is kept as a stack of
// segments (names and indices viewing the resource) that grows and shrinks with the walk
// (PathSegment); it is rendered as text only for an error.
class Validator {
 public:
  // The first problem found, or OK.
  Status Validate(const json::Value& r) {
    if (Resource(r)) return Status::Ok();
    return std::move(error_);
  }

 private:
  // Every check returns true when the value is valid, or records the problem (error_)
  // and returns false: no Status objects on the valid path.
  bool Resource(const json::Value& r) {
    if (!r.is_object()) {
      return segments_.empty() ? Fail(Status::InvalidArgument("a resource must be a JSON object"))
                               : Bad("a resource must be a JSON object");
    }
    const json::Value* type = r.find("resourceType");
    if (type == nullptr || !type->is_string())
      return Fail(Status::InvalidArgument(Where() + "missing resourceType"));
    if (!IsKnownResourceType(type->text()))
      return Fail(Status::InvalidArgument(Where() + "unknown resourceType '" +
                                          type->text().substr(0, 64) + "'"));
    // A top-level resource's path starts with its type; a nested one keeps its location.
    const bool top = segments_.empty();
    if (top) segments_.push_back(Segment{type->text(), 0});
    const bool ok = ResourceBody(type->text(), r);
    if (top) segments_.pop_back();
    return ok;
  }

  // ".name", or "[index]" when name.data() is null; the first segment is the root type.
  struct Segment {
    std::string_view name;
    size_t index;
  };

  // Appends ".key" or "[i]" to the path for the lifetime of the object.
  class PathSegment {
   public:
    PathSegment(std::vector<Segment>* path, std::string_view key) : path_(path) {
      path_->push_back(Segment{key, 0});
    }
    PathSegment(std::vector<Segment>* path, size_t index) : path_(path) {
      path_->push_back(Segment{std::string_view(), index});
    }
    ~PathSegment() { path_->pop_back(); }
    PathSegment(const PathSegment&) = delete;
    PathSegment& operator=(const PathSegment&) = delete;

   private:
    std::vector<Segment>* path_;
  };

  std::string Path() const {
    std::string path;
    for (size_t i = 0; i < segments_.size(); ++i) {
      const Segment& s = segments_[i];
      if (s.name.data() == nullptr) {
        path += '[';
        path += std::to_string(s.index);
        path += ']';
      } else {
        if (i > 0) path += '.';
        path += s.name;
      }
    }
    return path;
  }
  // "<path>: " inside a resource, "" at the top.
  std::string Where() const { return segments_.empty() ? std::string() : Path() + ": "; }

  bool Fail(Status status) {
    error_ = std::move(status);
    return false;
  }
  bool Bad(std::string_view problem) {
    return Fail(ErrorAt(StatusCode::kUnprocessable, Path(), problem));
  }
  bool BadAt(std::string_view key, std::string_view problem) {
    PathSegment seg(&segments_, key);
    return Bad(problem);
  }

  // The first occurrence (what json::Value::find gives) of each member the resource rules
  // read, found in one pass over the members instead of one search per rule.
  struct RuleMembers {
    const json::Value *id = nullptr, *meta = nullptr, *gender = nullptr, *birth_date = nullptr,
                      *status = nullptr, *code = nullptr, *issued = nullptr, *klass = nullptr,
                      *subject = nullptr, *intent = nullptr;

    explicit RuleMembers(const json::Value& r) : resource_(r) {
      for (const auto& [key, value] : r.members()) {
        if (Member slot = SlotOf(key); slot != nullptr && this->*slot == nullptr)
          this->*slot = &value;
      }
    }
    // A name SlotOf does not list (a rule added later) is searched for.
    const json::Value* Get(std::string_view key) const {
      const Member slot = SlotOf(key);
      return slot == nullptr ? resource_.find(key) : this->*slot;
    }

   private:
    const json::Value& resource_;
    using Member = const json::Value* RuleMembers::*;
    // Told apart by length first: most member names cost one comparison of sizes.
    static Member SlotOf(std::string_view key) {
      switch (key.size()) {
        case 2:
          return key == "id" ? &RuleMembers::id : nullptr;
        case 4:
          return key == "meta" ? &RuleMembers::meta : key == "code" ? &RuleMembers::code : nullptr;
        case 5:
          return key == "class" ? &RuleMembers::klass : nullptr;
        case 6:
          return key == "status"   ? &RuleMembers::status
                 : key == "gender" ? &RuleMembers::gender
                 : key == "issued" ? &RuleMembers::issued
                 : key == "intent" ? &RuleMembers::intent
                                   : nullptr;
        case 7:
          return key == "subject" ? &RuleMembers::subject : nullptr;
        case 9:
          return key == "birthDate" ? &RuleMembers::birth_date : nullptr;
        default:
          return nullptr;
      }
    }
  };

  bool ResourceBody(std::string_view type, const json::Value& r) {
    const RuleMembers m(r);
    if (const json::Value* id = m.id) {
      if (!id->is_string() || !IsValidFhirId(id->text()))
        return BadAt("id", "an id is 1-64 characters of A-Z, a-z, 0-9, '-' and '.'");
    }
    if (const json::Value* meta = m.meta) {
      PathSegment seg(&segments_, "meta");
      if (!meta->is_object()) return Bad("expected an object");
      if (const json::Value* v = meta->find("versionId");
          v && (!v->is_string() || !IsValidFhirId(v->text())))
        return BadAt("versionId", "expected an id");
      if (const json::Value* v = meta->find("lastUpdated")) {
        PathSegment last(&segments_, "lastUpdated");
        if (!Date(*v, DateKind::kInstant)) return false;
      }
    }
    if (!TypeRules(type, m)) return false;
    for (const auto& [key, value] : r.members()) {
      if (key == "resourceType") continue;
      PathSegment seg(&segments_, key);
      if (!Element(key, value)) return false;
    }
    return true;
  }

  bool Required(const RuleMembers& r, std::string_view key) {
    if (r.Get(key) == nullptr) return BadAt(key, "is required");
    return true;
  }

  bool Code(const RuleMembers& r, std::string_view key,
            std::initializer_list<std::string_view> allowed) {
    const json::Value* v = r.Get(key);
    if (v == nullptr) return true;
    if (!v->is_string()) return BadAt(key, "expected a code (string)");
    for (auto a : allowed)
      if (a == v->text()) return true;
    return BadAt(key, "'" + v->text().substr(0, 64) + "' is not an allowed code");
  }

  bool DateAt(const json::Value& r, std::string_view key, DateKind kind) {
    return DateOf(r.find(key), key, kind);
  }
  bool DateOf(const json::Value* v, std::string_view key, DateKind kind) {
    if (v == nullptr) return true;
    PathSegment seg(&segments_, key);
    return Date(*v, kind);
  }

  // Rules for the elements that medhub indexes or reasons about, per resource type.
  bool TypeRules(std::string_view type, const RuleMembers& r) {
    if (type == "Patient") {
      if (!Code(r, "gender", {"male", "female", "other", "unknown"})) return false;
      if (!DateOf(r.birth_date, "birthDate", DateKind::kDate)) return false;
    } else if (type == "Observation") {
      if (!Required(r, "status")) return false;
      if (!Required(r, "code")) return false;
      if (!Code(r, "status",
                {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                 "entered-in-error", "unknown"}))
        return false;
      if (!DateOf(r.issued, "issued", DateKind::kInstant)) return false;
    } else if (type == "Encounter") {
      if (!Required(r, "status")) return false;
      if (!Required(r, "class")) return false;
    } else if (type == "Condition" || type == "Procedure") {
      if (!Required(r, "subject")) return false;
    } else if (type == "MedicationRequest") {
      if (!Required(r, "status")) return false;
      if (!Required(r, "intent")) return false;
      if (!Required(r, "subject")) return false;
    }
    return true;
  }

  bool Date(const json::Value& v, DateKind kind) {
    if (!v.is_string()) return Bad("expected a date string");
    auto r = ParseFhirDate(v.text(), kind);
    if (!r.ok()) return Bad(r.status().message());
    return true;
  }

  bool Period(const json::Value& v) {
    if (!v.is_object()) return Bad("expected a Period object");
    if (!DateAt(v, "start", DateKind::kDateTime)) return false;
    return DateAt(v, "end", DateKind::kDateTime);
  }

  bool Quantity(const json::Value& v) {
    if (!v.is_object()) return Bad("expected a Quantity object");
    if (const json::Value* n = v.find("value"); n && !n->is_number())
      return BadAt("value", "expected a number");
    static constexpr std::array<std::string_view, 4> kStrings = {"unit", "system", "code",
                                                                 "comparator"};
    for (std::string_view k : kStrings)
      if (const json::Value* s = v.find(k); s && !s->is_string())
        return BadAt(k, "expected a string");
    return true;
  }

  bool Codings(const json::Value& v) {
    if (!v.is_array()) return Bad("expected an array of Coding");
    for (size_t i = 0; i < v.items().size(); ++i) {
      const json::Value& c = v.items()[i];
      PathSegment seg(&segments_, i);
      if (!c.is_object()) return Bad("expected a Coding object");
      // An array of string_view: a braced list of literals would be one of const char*,
      // measured anew (strlen) on every use.
      static constexpr std::array<std::string_view, 4> kStrings = {"system", "version", "code",
                                                                   "display"};
      for (std::string_view k : kStrings)
        if (const json::Value* s = c.find(k); s && !s->is_string())
          return BadAt(k, "expected a string");
    }
    return true;
  }

  // Generic rules that hold for every element, plus the typed ones chosen by name. The
  // path already ends with `key`.
  bool Element(std::string_view key, const json::Value& v) {
    if (!NotEmpty(v)) return false;
    if (key == "coding" && !Codings(v)) return false;
    if (key == "contained") {
      if (!v.is_array()) return Bad("expected an array of resources");
      for (size_t i = 0; i < v.items().size(); ++i) {
        PathSegment seg(&segments_, i);
        if (!Resource(v.items()[i])) return false;
      }
      return true;
    }
    if (!v.is_array()) return Single(key, v);
    for (size_t i = 0; i < v.items().size(); ++i) {
      const json::Value& item = v.items()[i];
      if (item.is_null()) continue;  // allowed: aligns primitive arrays with their _ twins
      PathSegment seg(&segments_, i);
      if (item.is_array()) return Bad("arrays of arrays are not allowed");
      if (!NotEmpty(item)) return false;
      if (!Single(key, item)) return false;
    }
    return true;
  }

  bool NotEmpty(const json::Value& v) {
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
    return true;
  }

  // One (non-array) value of element `key`. The typed rules are told apart by the name's
  // last character first, so most names cost one comparison.
  bool Single(std::string_view key, const json::Value& v) {
    switch (key.empty() ? '\0' : key.back()) {
      case 'e':
        if (key == "reference" && !v.is_object()) {  // an object is a Reference-typed element
          if (!v.is_string()) return Bad("expected a reference string");
          if (const char* why = CheckReference(v.text(), nullptr))
            return Bad(BadReference(v.text(), why).message());
        } else if (EndsWith(key, "DateTime")) {
          if (!Date(v, DateKind::kDateTime)) return false;
        } else if (key == "resource" && v.is_object() && v.find("resourceType")) {
          return Resource(v);
        }
        break;
      case 't':
        if (EndsWith(key, "Instant") && !Date(v, DateKind::kInstant)) return false;
        break;
      case 'd':
        if ((EndsWith(key, "Period") || (key == "period" && v.is_object())) && !Period(v))
          return false;
        break;
      case 'y':
        if (EndsWith(key, "Quantity") && !Quantity(v)) return false;
        break;
      default:
        break;
    }
    if (v.is_object()) {
      for (const auto& [k, child] : v.members()) {
        PathSegment seg(&segments_, k);
        if (!Element(k, child)) return false;
      }
    }
    return true;
  }

  std::vector<Segment> segments_;
  Status error_;
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

Status ValidateResource(const json::Value& resource) { return Validator().Validate(resource); }

Result<json::Value> ParseResource(std::string_view body) {
  json::ParseOptions opts;
  opts.reject_duplicate_keys = true;
  auto parsed = json::Parse(body, opts);
  if (!parsed.ok()) return parsed.status().WithPrefix("malformed JSON");
  RETURN_IF_ERROR(ValidateResource(*parsed));
  return parsed;
}

namespace {

// Checks a reference string; returns nullptr when it is valid (filling *ref unless null)
// or why it is not. ParseReference(), ParseReferenceView() and the Validator share it, so
// validation allocates nothing.
// True when some byte of `s` is a control character or a space (<= ' '), eight bytes at a
// time: a word has a byte below 0x21 exactly when (w - 0x21..21) & ~w & 0x80..80 is not 0.
bool HasSpaceOrControl(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (((w - kOnes * 0x21) & ~w & kHigh) != 0) return true;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) <= ' ') return true;
  return false;
}

// The position of the last `c` in `s`, or npos (memrchr: vectorized, unlike rfind).
size_t LastOf(std::string_view s, char c) {
  const void* p = s.empty() ? nullptr : memrchr(s.data(), c, s.size());
  return p == nullptr ? std::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - s.data());
}

const char* CheckReference(std::string_view text, ReferenceView* ref) {
  if (text.empty()) return "empty";
  if (HasSpaceOrControl(text)) return "contains whitespace";
  Reference::Kind kind = Reference::Kind::kRelative;
  if (text[0] == '#') {
    if (ref != nullptr) {
      ref->kind = Reference::Kind::kContained;
      ref->id = text.substr(1);
    }
    return nullptr;
  }
  if (text.starts_with("urn:uuid:") || text.starts_with("urn:oid:")) {
    if (ref != nullptr) ref->kind = Reference::Kind::kUrn;
    if (text.size() <= 9) return "empty urn";
    return nullptr;
  }
  std::string_view rest = text;
  if (text.starts_with("http://") || text.starts_with("https://")) {
    kind = Reference::Kind::kAbsolute;
  }
  if (ref != nullptr) ref->kind = kind;
  // Take the trailing "Type/id[/_history/v]" of the path.
  std::string_view version;
  // Most references have no '_' at all: one vectorized search spares the substring search.
  if (size_t h = rest.find('_') == std::string_view::npos ? std::string_view::npos
                                                          : rest.rfind("/_history/");
      h != std::string_view::npos) {
    version = rest.substr(h + 10);
    rest = rest.substr(0, h);
    if (!IsValidFhirId(version)) return "invalid version id";
  }
  const size_t slash = LastOf(rest, '/');
  if (slash == std::string_view::npos) {
    if (kind == Reference::Kind::kAbsolute) return nullptr;  // some other URL: keep as is
    return "expected Type/id";
  }
  std::string_view id = rest.substr(slash + 1);
  std::string_view before = rest.substr(0, slash);
  const size_t type_slash = LastOf(before, '/');
  std::string_view type = before.substr(type_slash == std::string_view::npos ? 0 : type_slash + 1);
  if (!IsKnownResourceType(type) || !IsValidFhirId(id)) {
    if (kind == Reference::Kind::kAbsolute) return nullptr;  // not a FHIR URL we can resolve
    return "expected ResourceType/id with a known type and a valid id";
  }
  if (kind == Reference::Kind::kRelative && before != type) return "expected Type/id";
  if (ref != nullptr) {
    ref->type = type;
    ref->id = id;
    ref->version = version;
  }
  return nullptr;
}

Status BadReference(std::string_view text, const char* why) {
  return Status::InvalidArgument("invalid reference '" + std::string(text.substr(0, 80)) +
                                 "': " + why);
}

}  // namespace

Result<Reference> ParseReference(std::string_view text) {
  ReferenceView view;
  if (const char* why = CheckReference(text, &view)) return BadReference(text, why);
  Reference ref;
  ref.kind = view.kind;
  ref.type = std::string(view.type);
  ref.id = std::string(view.id);
  ref.version = std::string(view.version);
  ref.text = std::string(text);
  return ref;
}

std::optional<ReferenceView> ParseReferenceView(std::string_view text) {
  ReferenceView view;
  if (CheckReference(text, &view) != nullptr) return std::nullopt;
  return view;
}

json::Value MakeCoding(std::string_view system, std::string_view code, std::string_view display) {
  json::Value c = json::Value::Object();
  c.set("system", json::Value::String(std::string(system)));
  c.set("code", json::Value::String(std::string(code)));
  if (!display.empty()) c.set("display", json::Value::String(std::string(display)));
  return c;
}

json::Value MakeConcept(json::Value coding, std::string_view text) {
  json::Value cc = json::Value::Object();
  json::Value list = json::Value::Array();
  list.push_back(std::move(coding));
  cc.set("coding", std::move(list));
  if (!text.empty()) cc.set("text", json::Value::String(std::string(text)));
  return cc;
}

}  // namespace medhub::fhir
