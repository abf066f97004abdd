// json::Value: construction, access and structural equality.
#include <cassert>
#include <charconv>
#include <new>
#include <optional>
#include <string>
#include <system_error>

#include "core/json.h"
#include "core/json_scan.h"

namespace medhub::json {

using internal::IsValidNumber;
using internal::SameName;

// ---------------------------------------------------------------------------------
// Value.

Value::Value(const Value& other) { ConstructFrom(other); }

void Value::Destroy() noexcept {
  switch (kind_) {
    case Kind::kNumber:
    case Kind::kString:
      text_.~basic_string();
      break;
    case Kind::kArray:
      items_.~vector();
      break;
    case Kind::kObject:
      members_.~vector();
      break;
    default:
      break;
  }
  kind_ = Kind::kNull;
}

// Both assignments go through a temporary, so `v = v.items()[0]` (the source living
// inside the target) is safe.
Value& Value::operator=(const Value& other) {
  if (this != &other) {
    Value copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Value& Value::MoveAssignSlow(Value& other) noexcept {
  if (this != &other) {
    Value moved(std::move(other));
    Destroy();
    MoveFrom(moved);
  }
  return *this;
}

void Value::Become(Kind kind) {
  assert(kind_ == Kind::kNull);
  if (kind == Kind::kArray) {
    new (&items_) std::vector<Value>();
  } else {
    new (&members_) std::vector<Member>();
  }
  kind_ = kind;
}

const std::string& Value::NoText() {
  static const std::string* const empty = new std::string();
  return *empty;
}

const std::vector<Value>& Value::NoItems() {
  static const std::vector<Value>* const empty = new std::vector<Value>();
  return *empty;
}

const std::vector<Member>& Value::NoMembers() {
  static const std::vector<Member>* const empty = new std::vector<Member>();
  return *empty;
}

// Mutable items()/members() of a Value of another kind: a per-thread list, emptied on
// each call, so reads see nothing and writes do not change the Value (as before the
// payloads shared a union).
std::vector<Value>& Value::ScratchItems() {
  thread_local std::vector<Value> scratch;
  scratch.clear();
  return scratch;
}

std::vector<Member>& Value::ScratchMembers() {
  thread_local std::vector<Member> scratch;
  scratch.clear();
  return scratch;
}

Value Value::Bool(bool b) {
  Value v;
  v.bool_ = b;
  v.kind_ = Kind::kBool;
  return v;
}

Value Value::Number(std::string_view raw) {
  assert(IsValidNumber(raw) && "Value::Number needs a valid JSON number literal");
  Value v;
  new (&v.text_) std::string(raw);
  v.kind_ = Kind::kNumber;
  return v;
}

Value Value::Int(int64_t i) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  return Number(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

Value Value::String(std::string s) {
  Value v;
  new (&v.text_) std::string(std::move(s));
  v.kind_ = Kind::kString;
  return v;
}

Value Value::Array() {
  Value v;
  v.Become(Kind::kArray);
  return v;
}

Value Value::Object() {
  Value v;
  v.Become(Kind::kObject);
  return v;
}

void Value::push_back(Value v) {
  if (kind_ == Kind::kNull) Become(Kind::kArray);
  items().push_back(std::move(v));
}

std::optional<double> Value::as_double() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  double d = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, d);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return d;
}

std::optional<int64_t> Value::as_int() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  int64_t i = 0;
  const char* end = text_.data() + text_.size();
  const auto r = std::from_chars(text_.data(), end, i);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;  // "1.5", "1e3", overflow
  return i;
}

const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const Member& m : members_) {
    if (SameName(m.first, key)) return &m.second;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  if (kind_ != Kind::kObject) return nullptr;
  for (Member& m : members_) {
    if (SameName(m.first, key)) return &m.second;
  }
  return nullptr;
}

std::string_view Value::get_string(std::string_view key) const {
  const Value* v = find(key);
  return (v != nullptr && v->is_string()) ? std::string_view(v->text_) : std::string_view();
}

// set() and insert_at() turn a null Value into an object (so `Value v; v.set(...)` does
// not silently serialize as "null"); on other non-object kinds they are a caller bug.
void Value::assign_string(std::string_view s) {
  if (kind_ == Kind::kString) {
    text_.assign(s);
  } else {
    *this = String(std::string(s));
  }
}

Value& Value::set(std::string_view key, Value v) {
  if (kind_ == Kind::kNull) Become(Kind::kObject);
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  std::vector<Member>& members = this->members();  // the scratch list on a caller bug
  members.emplace_back(std::string(key), std::move(v));
  return members.back().second;
}

Value& Value::insert_at(size_t pos, std::string_view key, Value v) {
  if (kind_ == Kind::kNull) Become(Kind::kObject);
  assert(kind_ == Kind::kObject);
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  std::vector<Member>& members = this->members();  // the scratch list on a caller bug
  if (pos > members.size()) pos = members.size();
  auto it = members.emplace(members.begin() + static_cast<std::ptrdiff_t>(pos), std::string(key),
                            std::move(v));
  return it->second;
}

bool Value::erase(std::string_view key) {
  if (kind_ != Kind::kObject) return false;
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.bool_ == b.bool_;
    case Kind::kNumber:
    case Kind::kString:
      return a.text_ == b.text_;
    case Kind::kArray:
      return a.items_ == b.items_;
    case Kind::kObject:
      return a.members_ == b.members_;
  }
  return false;
}

// ---------------------------------------------------------------------------------

}  // namespace medhub::json
